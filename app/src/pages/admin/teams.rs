use crate::domain::dollars;
use crate::domain::team_admin::{ConnectionCheck, TeamAdminRow, TeamForm};
use crate::error::AppError;
use crate::features::team_admin::{
    ArchiveTeam, CreateTeam, LoadTeamAccountSetup, RemoveHome, RotateExternalId, TestTeamConnection, UpdateTeam, load_admin_teams,
};
use crate::pages::errors::ErrorPanel;
use crate::pages::forms::{FieldMessage, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

const INPUT: &str = "mt-1 w-full rounded border border-slate-300 px-2 py-1";

/// `/admin/teams`: every team with its account, members, live workspaces and month; create,
/// edit, test the connection to the account, archive.
#[component]
pub fn TeamsAdminPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let teams = Resource::new(move || refresh.get(), |_| load_admin_teams());
    view! {
        <Title text="Teams · Atrium"/>
        <h1 class="text-2xl font-semibold">"Teams"</h1>
        <p class="mt-1 text-slate-600">
            "Each team works in its own AWS account, through a role the portal assumes there. Creating a team also creates its Cognito group."
        </p>
        {move || notice.get().map(|message| view! {
            <p role="status" data-testid="teams-notice" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">{message}</p>
        })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading teams…"</p> }>
            {move || Suspend::new(async move {
                match teams.await {
                    Ok(rows) => view! {
                        <ul class="mt-6 grid gap-4" data-testid="admin-teams">
                            {rows.into_iter().map(|team| view! { <TeamRow team refresh notice/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
        <CreateTeamForm refresh notice/>
    }
}

/// The team fields, shared by the create and edit forms; `prefix` keeps ids unique.
#[component]
fn TeamFields(form: TeamForm, new: bool, error: Signal<Option<AppError>>, prefix: String) -> impl IntoView {
    let reviewers_id = format!("{prefix}-reviewers");
    let field = move |name: &'static str, label: &'static str, value: String, required: bool, hint: &'static str| {
        let id = format!("{prefix}-{name}");
        let message_id = format!("{id}-error");
        view! {
            <div>
                <label for=id.clone() class="font-medium">{label}</label>
                {if name == "description" {
                    view! { <textarea id=id name=name rows="2" class=INPUT aria-describedby=message_id.clone()>{value}</textarea> }.into_any()
                } else {
                    view! { <input id=id name=name value=value required=required class=INPUT aria-describedby=message_id.clone() placeholder=hint/> }.into_any()
                }}
                <FieldMessage error field=name id=message_id/>
            </div>
        }
    };
    view! {
        {if new {
            field("slug", "Slug", form.slug.clone(), true, "neuroscience").into_any()
        } else {
            view! { <input type="hidden" name="slug" value=form.slug.clone()/> }.into_any()
        }}
        {field("name", "Display name", form.name.clone(), true, "Neuroscience")}
        {field("aws_account_id", "AWS account id", form.aws_account_id.clone(), true, "444444444444")}
        {field("role_arn", "Role the portal assumes", form.role_arn.clone(), true, "arn:aws:iam::444444444444:role/AtriumPortalAccess")}
        {field("ssm_path", "SSM path (empty: /atrium/teams/<slug>)", form.ssm_path.clone(), false, "/atrium/teams/neuroscience")}
        {field("time_zone", "Time zone (for nightly stops)", form.time_zone.clone(), false, "Europe/Berlin")}
        <div class="mt-3">
            <label for=reviewers_id.clone() class="block font-medium">"Approvals an import or export needs"</label>
            <select id=reviewers_id name="reviewers" class="mt-1 rounded border border-slate-300 p-1.5">
                <option value="1" selected=form.reviewers != "2">"1 reviewer"</option>
                <option value="2" selected=form.reviewers == "2">"2 reviewers (two people)"</option>
            </select>
        </div>
        {field("description", "Description", form.description.clone(), false, "")}
    }
}

#[component]
fn CreateTeamForm(refresh: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let error = last_error(create);
    Effect::new(move |_| {
        if let Some(Ok(slug)) = create.value().get() {
            notice.set(Some(format!("Team \"{slug}\" created, with its Cognito group team-{slug}. Test its connection next.")));
            refresh.update(|n| *n += 1);
        }
    });
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 class="font-semibold">"New team"</h2>
            {move || error.get().map(|e| view! {
                <p role="alert" data-testid="create-team-error" class="mt-3 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
            })}
            <ActionForm action=create attr:class="mt-3 grid gap-3 text-sm sm:grid-cols-2" attr:data-testid="create-team">
                <TeamFields form=TeamForm::default() new=true error prefix="new-team".into()/>
                <div class="sm:col-span-2"><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Create team"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamRow(team: TeamAdminRow, refresh: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let update = ServerAction::<UpdateTeam>::new();
    let test = ServerAction::<TestTeamConnection>::new();
    let archive = ServerAction::<ArchiveTeam>::new();
    let remove_home = ServerAction::<RemoveHome>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = remove_home.value().get() {
            notice.set(Some("Home removed: its files stay on the team's file system.".into()));
            refresh.update(|n| *n += 1);
        }
    });
    let left_homes = (!team.left_homes.is_empty()).then(|| {
        let homes = team.left_homes.clone();
        let slug = team.slug.to_string();
        view! {
            <dt class="text-slate-500">"Homes of people who left"</dt>
            <dd><ul data-testid="left-homes">
                {homes.into_iter().map(|home| {
                    let slug = slug.clone();
                    view! {
                        <li>
                            {format!("/home/{} ({}, since {}) ", home.username, home.access_point_id, home.created_at)}
                            <ActionForm action=remove_home attr:class="inline">
                                <input type="hidden" name="slug" value=slug/>
                                <input type="hidden" name="username" value=home.username.clone()/>
                                <button type="submit" class="text-red-700 underline" aria-label=format!("Remove the home of {}", home.username)>"Remove"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul></dd>
        }
    });
    let name = team.name.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            notice.set(Some("Team saved.".into()));
            refresh.update(|n| *n += 1);
        }
    });
    let archived_name = name.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = archive.value().get() {
            notice.set(Some(format!("{archived_name} archived. Its history, costs and audit rows stay.")));
            refresh.update(|n| *n += 1);
        }
    });
    let update_error = last_error(update);
    let row_error = Signal::derive(move || {
        archive
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| test.value().get().and_then(|r| r.err()))
            .or_else(|| remove_home.value().get().and_then(|r| r.err()))
            .or_else(|| update_error.get())
    });
    let last_check = team.last_check.clone();
    let check = Signal::derive(move || test.value().get().and_then(|r| r.ok()).or_else(|| last_check.clone()));
    let slug = team.slug.to_string();
    let budget = match team.budget_cents {
        Some(budget) => format!("{} of {} this month", dollars(team.month_spent_cents), dollars(budget)),
        None => format!("{} this month, no budget", dollars(team.month_spent_cents)),
    };
    let failed = Signal::derive(move || check.get().is_some_and(|c| !c.ok));
    let live = team.live_workspaces.clone();
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="admin-team" data-team=slug.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-base font-semibold">
                    {name.clone()} <span class="ml-1 font-mono text-slate-500">{slug.clone()}</span>
                    {team.archived.then(|| view! { <span class="ml-2 rounded bg-slate-200 px-2 py-0.5 text-xs text-slate-700">"archived"</span> })}
                    {move || failed.get().then(|| view! { <span class="ml-2 rounded bg-red-100 px-2 py-0.5 text-xs text-red-800" data-testid="connection-failed">"connection test failed"</span> })}
                </h2>
                <span class="text-slate-600">{budget}</span>
            </div>
            <dl class="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[10rem_1fr]">
                <dt class="text-slate-500">"AWS account"</dt><dd class="font-mono">{team.aws_account_id.clone()}</dd>
                <dt class="text-slate-500">"Role"</dt><dd class="break-all font-mono">{team.role_arn.clone()}</dd>
                <dt class="text-slate-500">"External id"</dt>
                <dd><ExternalId slug=slug.clone() external_id=team.external_id.clone() rotated_at=team.external_id_rotated_at.clone() archived=team.archived/></dd>
                <dt class="text-slate-500">"SSM path"</dt><dd class="font-mono">{team.ssm_path.clone()}</dd>
                <dt class="text-slate-500">"Time zone"</dt><dd>{team.time_zone.clone()}</dd>
                <dt class="text-slate-500">"Airlock reviewers"</dt><dd data-testid="team-reviewers">{team.reviewers}</dd>
                {left_homes}
                <dt class="text-slate-500">"Members"</dt><dd data-testid="member-count">{team.members}</dd>
                <dt class="text-slate-500">"Live workspaces"</dt>
                <dd>
                    {if live.is_empty() {
                        view! { <span>"none"</span> }.into_any()
                    } else {
                        view! {
                            <ul data-testid="live-workspaces">
                                {live.into_iter().map(|w| view! {
                                    <li><a class="text-indigo-700 underline" href=format!("/workspaces/{}", w.id)>{w.name}</a>{format!(" ({}, {})", w.owner, w.state)}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </dd>
            </dl>
            {move || row_error.get().map(|e| view! {
                <p role="alert" data-testid="team-error" class="mt-3 rounded border border-red-200 bg-red-50 p-3 text-red-800">{e.to_string()}</p>
            })}
            {move || check.get().map(|check| view! { <CheckResult check/> })}
            {(!team.archived).then({
                let slug = slug.clone();
                move || {
                let form = team.form();
                let (edit_prefix, archive_label) = (format!("edit-{slug}"), format!("Archive {}", team.name));
                let (test_slug, archive_slug) = (slug.clone(), slug.clone());
                let test_label = format!("Test connection of {}", team.name);
                view! {
                    <ConnectAccount slug=slug.clone() name=team.name.clone()/>
                    <div class="mt-3 flex flex-wrap gap-2">
                        <ActionForm action=test>
                            <input type="hidden" name="slug" value=test_slug.clone()/>
                            <button type="submit" class="rounded border border-slate-300 px-3 py-1" aria-label=test_label>"Test connection"</button>
                        </ActionForm>
                    </div>
                    <details class="mt-3">
                        <summary class="cursor-pointer text-indigo-700">"Edit"</summary>
                        <ActionForm action=update attr:class="mt-2 grid gap-3 sm:grid-cols-2">
                            <TeamFields form new=false error=update_error prefix=edit_prefix/>
                            <div class="sm:col-span-2"><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Save team"</button></div>
                        </ActionForm>
                    </details>
                    <details class="mt-2">
                        <summary class="cursor-pointer text-red-700">"Archive…"</summary>
                        <p class="mt-2 text-slate-600">"An archived team disappears from team selection and catalogs; its history, costs and audit rows stay. Teams with live workspaces cannot be archived."</p>
                        <ActionForm action=archive attr:class="mt-2">
                            <input type="hidden" name="slug" value=archive_slug.clone()/>
                            <button type="submit" class="rounded border border-red-300 px-3 py-1 text-red-700">{archive_label}</button>
                        </ActionForm>
                    </details>
                }
            }})}
        </li>
    }
}

/// "Connect an AWS account": (1) deploy the team account's stack (CloudFormation's quick-create
/// page, filled in, or the template to upload), (2) give the team the role it makes, (3) test.
#[component]
fn ConnectAccount(slug: String, name: String) -> impl IntoView {
    let setup = ServerAction::<LoadTeamAccountSetup>::new();
    let label = format!("Show how to connect the AWS account of {name}");
    view! {
        <details class="mt-3" data-testid="connect-account">
            <summary class="cursor-pointer text-indigo-700">"Connect an AWS account"</summary>
            <ActionForm action=setup attr:class="mt-2">
                <input type="hidden" name="slug" value=slug/>
                <button type="submit" class="rounded border border-slate-300 px-3 py-1" aria-label=label>"Show the steps"</button>
            </ActionForm>
            {move || setup.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="mt-2 text-red-800">{e.to_string()}</p> })}
            {move || setup.value().get().and_then(|r| r.ok()).map(|setup| view! {
                <ol class="mt-2 list-decimal space-y-2 pl-5" data-testid="account-steps">
                    <li>
                        "In the team's AWS account, create the stack "<span class="font-mono">{setup.stack_name.clone()}</span>" (template version "{setup.template_version}"): "
                        {setup.quick_create_url.clone().map(|url| view! {
                            <a class="text-indigo-700 underline" href=url target="_blank" rel="noopener" data-testid="quick-create">"open CloudFormation with everything filled in"</a>" or "
                        })}
                        <a class="text-indigo-700 underline" href=setup.template_download.clone() data-testid="template-download">"download the template"</a>
                        " with these values:"
                        <dl class="mt-1 grid gap-x-3 sm:grid-cols-[10rem_1fr]">
                            {setup.parameters.iter().map(|p| view! {
                                <dt class="text-slate-500">{p.key.clone()}</dt><dd class="break-all font-mono">{p.value.clone()}</dd>
                            }).collect_view()}
                        </dl>
                    </li>
                    <li>"Give the team the role the stack outputs (RoleArn), under Edit: "<span class="break-all font-mono">{setup.role_arn.clone()}</span></li>
                    <li>"Test the connection."</li>
                </ol>
            })}
        </details>
    }
    .into_any()
}

/// The external id the team's role must require, and its rotation (the old id stops working at
/// once, so the admin is told what to change).
#[component]
fn ExternalId(slug: String, external_id: String, rotated_at: Option<String>, archived: bool) -> impl IntoView {
    let rotate = ServerAction::<RotateExternalId>::new();
    let current = Signal::derive(move || rotate.value().get().and_then(|r| r.ok()).unwrap_or_else(|| external_id.clone()));
    let rotated = Signal::derive(move || rotate.value().get().is_some_and(|r| r.is_ok()));
    let since = rotated_at.map_or_else(|| "never rotated".to_owned(), |at| format!("rotated {at}"));
    view! {
        <span class="break-all font-mono" data-testid="external-id">{current}</span>
        <span class="ml-2 text-slate-500">{since}</span>
        {move || rotated.get().then(|| view! {
            <p role="status" class="mt-1 text-amber-800" data-testid="external-id-rotated">
                "Rotated. Update the role's trust policy (the stack's ExternalId parameter) with the new id: until then the portal cannot act in the account."
            </p>
        })}
        {move || rotate.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="mt-1 text-red-800">{e.to_string()}</p> })}
        {(!archived).then(|| view! {
            <details class="mt-1">
                <summary class="cursor-pointer text-indigo-700">"Rotate…"</summary>
                <p class="mt-1 text-slate-600">"A new external id replaces this one at once: the role's trust policy must then require the new one."</p>
                <ActionForm action=rotate attr:class="mt-1">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <button type="submit" class="rounded border border-slate-300 px-3 py-1">"Rotate the external id"</button>
                </ActionForm>
            </details>
        })}
    }
    .into_any()
}

#[component]
fn CheckResult(check: ConnectionCheck) -> impl IntoView {
    let (title, class) = if check.ok {
        ("Connection works", "mt-3 rounded border border-green-200 bg-green-50 p-3 text-green-900")
    } else {
        ("Connection test failed", "mt-3 rounded border border-red-200 bg-red-50 p-3 text-red-900")
    };
    view! {
        <div class=class data-testid="connection-check" data-ok=check.ok.to_string()>
            <p class="font-medium">{title}" · "{check.checked_at}</p>
            <ul class="mt-1 space-y-1">
                {check.steps.into_iter().map(|step| view! {
                    <li><span aria-hidden="true">{if step.ok { "✓ " } else { "✗ " }}</span>
                        <span class="sr-only">{if step.ok { "passed: " } else { "failed: " }}</span>
                        {step.step}": "{step.detail}</li>
                }).collect_view()}
            </ul>
        </div>
    }
}
