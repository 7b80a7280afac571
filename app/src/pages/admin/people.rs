use crate::domain::people::{AccountStatus, Disabled, PeoplePage, Person};
use crate::domain::{Role, TeamSummary};
use crate::error::AppError;
use crate::features::people::{DisableUser, EnableUser, InviteUser, SetUserAccess, load_people};
use crate::pages::errors::ErrorPanel;
use crate::pages::forms::{FieldMessage, last_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const INPUT: &str = "mt-1 w-full rounded border border-slate-300 px-2 py-1";

/// `/admin/people`: the user pool's users (paged, searchable) with status, roles, teams and
/// last sign-in; invite, change roles and teams, disable and enable.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let refresh = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let disabled = RwSignal::new(None::<Disabled>);
    let search = move || query.with(|q| q.get("q")).unwrap_or_default();
    let people = Resource::new(
        move || (search(), query.with(|q| q.get("page")), refresh.get()),
        |(search, page, _)| load_people(Some(search), page),
    );
    view! {
        <Title text="People · Atrium"/>
        <h1 class="text-2xl font-semibold">"People"</h1>
        <p class="mt-1 text-slate-600">"Everyone in the user pool. Changes to roles and teams apply on the person's next click; disabling someone signs them out at once."</p>
        <form method="get" action="/admin/people" class="mt-4 flex gap-2 text-sm" role="search">
            <label for="people-search" class="sr-only">"Search by username or e-mail"</label>
            <input id="people-search" name="q" value=search class="w-64 rounded border border-slate-300 px-2 py-1" placeholder="Username or e-mail starts with…"/>
            <button type="submit" class="rounded border border-slate-300 px-3 py-1">"Search"</button>
        </form>
        {move || notice.get().map(|message| view! {
            <p role="status" data-testid="people-notice" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">{message}</p>
        })}
        {move || disabled.get().map(|result| view! { <DisabledPanel result/> })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match people.await {
                    Ok(page) => view! { <PeopleList page search=search() refresh notice disabled/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DisabledPanel(result: Disabled) -> impl IntoView {
    view! {
        <div role="status" data-testid="disabled-result" class="mt-4 rounded border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
            <p>{format!("{} is disabled and signed out everywhere.", result.username)}</p>
            {if result.live_workspaces.is_empty() {
                view! { <p>"They have no running workspaces."</p> }.into_any()
            } else {
                view! {
                    <p>"Their workspaces that still run (stop or terminate them, or keep them):"</p>
                    <ul class="list-disc pl-5">
                        {result.live_workspaces.into_iter().map(|w| view! {
                            <li><a class="underline" href=format!("/workspaces/{}", w.id)>{w.name}</a>{format!(" ({}, {})", w.state, w.owner)}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn PeopleList(
    page: PeoplePage,
    search: String,
    refresh: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    disabled: RwSignal<Option<Disabled>>,
) -> impl IntoView {
    let PeoplePage { people, next_page, teams, provider } = page;
    let next_href = next_page.map(|token| {
        let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("q", &search).append_pair("page", &token).finish();
        format!("/admin/people?{query}")
    });
    let provider_note = provider.clone().map(|provider| view! {
        <p class="mt-3 text-sm text-slate-600">
            {format!("People who sign in through {provider} get their roles and teams from {provider}'s groups at each sign-in: those are shown read-only here.")}
        </p>
    });
    let invite_teams = teams.clone();
    view! {
        {provider_note}
        {if people.is_empty() {
            view! { <p class="mt-6 text-slate-600">"Nobody matches."</p> }.into_any()
        } else {
            view! {
                <table class="mt-6 w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm shadow-sm" data-testid="people">
                    <caption class="sr-only">"People"</caption>
                    <thead class="bg-slate-100 text-left text-slate-600">
                        <tr><th scope="col" class="p-3">"User"</th><th scope="col" class="p-3">"Status"</th><th scope="col" class="p-3">"Roles"</th><th scope="col" class="p-3">"Teams"</th><th scope="col" class="p-3">"Last sign-in"</th><th scope="col" class="p-3">"Actions"</th></tr>
                    </thead>
                    <tbody>
                        {people.into_iter().map(|person| view! { <PersonRow person teams=teams.clone() provider=provider.clone() refresh notice disabled/> }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {next_href.map(|href| view! { <p class="mt-3"><a class="text-indigo-700 underline" href=href>"Next page"</a></p> })}
        <InviteForm teams=invite_teams refresh notice/>
    }
}

#[component]
fn PersonRow(
    person: Person,
    teams: Vec<TeamSummary>,
    provider: Option<String>,
    refresh: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    disabled: RwSignal<Option<Disabled>>,
) -> impl IntoView {
    let access = ServerAction::<SetUserAccess>::new();
    let disable = ServerAction::<DisableUser>::new();
    let enable = ServerAction::<EnableUser>::new();
    let username = person.username.to_string();
    let saved_name = username.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = access.value().get() {
            notice.set(Some(format!("Saved {saved_name}'s roles and teams.")));
            refresh.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(result)) = disable.value().get() {
            disabled.set(Some(result));
            refresh.update(|n| *n += 1);
        }
    });
    let enabled_name = username.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = enable.value().get() {
            notice.set(Some(format!("{enabled_name} is enabled again.")));
            disabled.set(None);
            refresh.update(|n| *n += 1);
        }
    });
    let access_error = last_error(access);
    let row_error = Signal::derive(move || {
        access_error.get().or_else(|| disable.value().get().and_then(|r| r.err())).or_else(|| enable.value().get().and_then(|r| r.err()))
    });
    let is_disabled = person.status == AccountStatus::Disabled;
    let roles = person.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
    let team_list = person
        .teams
        .iter()
        .map(|t| if person.team_admin_of.contains(t) { format!("{t} (team admin)") } else { t.to_string() })
        .collect::<Vec<_>>()
        .join(", ");
    let managed = person.managed_by_provider;
    let provider = provider.unwrap_or_else(|| "the SSO provider".into());
    let (enable_label, disable_label) = (format!("Enable {username}"), format!("Disable {username}"));
    let form_username = username.clone();
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid="person" data-username=username.clone()>
            <td class="p-3"><span class="font-medium">{username.clone()}</span><br/><span class="text-slate-500">{person.email.clone().unwrap_or_default()}</span></td>
            <td class="p-3" data-testid="person-status">{person.status.label()}</td>
            <td class="p-3" data-testid="person-roles">{if roles.is_empty() { "none".to_owned() } else { roles }}</td>
            <td class="p-3" data-testid="person-teams">
                {if team_list.is_empty() { "none".to_owned() } else { team_list }}
                {managed.then(|| view! { <span class="block text-xs text-slate-500">{format!("managed by {provider}")}</span> })}
            </td>
            <td class="p-3">{person.last_sign_in.clone().unwrap_or_else(|| "never".into())}</td>
            <td class="p-3">
                {move || row_error.get().map(|e| view! { <p role="alert" data-testid="person-error" class="mb-2 rounded border border-red-200 bg-red-50 p-2 text-red-800">{e.to_string()}</p> })}
                {if is_disabled {
                    view! {
                        <ActionForm action=enable>
                            <input type="hidden" name="username" value=form_username.clone()/>
                            <button type="submit" class="rounded border border-slate-300 px-3 py-1">{enable_label.clone()}</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <ActionForm action=disable>
                            <input type="hidden" name="username" value=form_username.clone()/>
                            <button type="submit" class="rounded border border-red-300 px-3 py-1 text-red-700">{disable_label.clone()}</button>
                        </ActionForm>
                    }.into_any()
                }}
                {(!managed).then(|| view! { <AccessForm person=person.clone() teams access error=access_error/> })}
            </td>
        </tr>
    }
}

/// The roles and teams of one person as checkboxes.
#[component]
fn AccessForm(
    person: Person,
    teams: Vec<TeamSummary>,
    access: ServerAction<SetUserAccess>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let username = person.username.to_string();
    let key = username.clone();
    let id = move |what: &str| format!("{what}-{key}");
    let (summary, save) = (format!("Edit {username}'s access"), format!("Save {username}"));
    view! {
        <details class="mt-2">
            <summary class="cursor-pointer text-indigo-700">{summary}</summary>
            <ActionForm action=access attr:class="mt-2 grid gap-2">
                <input type="hidden" name="username" value=username.clone()/>
                <fieldset aria-describedby=id("roles-error")>
                    <legend class="font-medium">"Roles"</legend>
                    {Role::ALL.into_iter().map(|role| view! {
                        <label class="mr-3 inline-flex items-center gap-1">
                            <input type="checkbox" name=format!("roles[{role}]") value="on" checked=person.roles.contains(&role)/>{role.as_str()}
                        </label>
                    }).collect_view()}
                    <FieldMessage error field="roles" id=id("roles-error")/>
                </fieldset>
                <fieldset aria-describedby=id("teams-error")>
                    <legend class="font-medium">"Teams"</legend>
                    {teams.iter().map(|team| {
                        let slug = team.slug.clone();
                        view! {
                            <div class="flex flex-wrap gap-3">
                                <label class="inline-flex items-center gap-1">
                                    <input type="checkbox" name=format!("teams[{slug}]") value="on" checked=person.teams.contains(&slug)/>{format!("{} member", team.name)}
                                </label>
                                <label class="inline-flex items-center gap-1">
                                    <input type="checkbox" name=format!("team_admin[{slug}]") value="on" checked=person.team_admin_of.contains(&slug)/>{format!("{} team admin", team.name)}
                                </label>
                            </div>
                        }
                    }).collect_view()}
                    <FieldMessage error field="teams" id=id("teams-error")/>
                </fieldset>
                <div><button type="submit" class="rounded bg-indigo-700 px-3 py-1 text-white">{save}</button></div>
            </ActionForm>
        </details>
    }
}

#[component]
fn InviteForm(teams: Vec<TeamSummary>, refresh: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let invite = ServerAction::<InviteUser>::new();
    let error = last_error(invite);
    Effect::new(move |_| {
        if let Some(Ok(())) = invite.value().get() {
            notice.set(Some("Invitation sent: Cognito e-mails the temporary password, and they choose their own at first sign-in.".into()));
            refresh.update(|n| *n += 1);
        }
    });
    let field = move |name: &'static str, label: &'static str, kind: &'static str, required: bool| {
        let id = format!("invite-{name}");
        let message_id = format!("{id}-error");
        view! {
            <div>
                <label for=id.clone() class="font-medium">{label}</label>
                <input id=id name=name type=kind required=required class=INPUT aria-describedby=message_id.clone()/>
                <FieldMessage error field=name id=message_id/>
            </div>
        }
    };
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 class="font-semibold">"Invite someone"</h2>
            {move || error.get().map(|e| view! {
                <p role="alert" data-testid="invite-error" class="mt-3 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
            })}
            <ActionForm action=invite attr:class="mt-3 grid gap-3 text-sm sm:grid-cols-2" attr:data-testid="invite">
                {field("username", "Username", "text", true)}
                {field("email", "E-mail", "email", true)}
                {field("temporary_password", "Temporary password (optional: Cognito makes one up; it is e-mailed either way)", "text", false)}
                <fieldset aria-describedby="invite-roles-error">
                    <legend class="font-medium">"Roles"</legend>
                    {Role::ALL.into_iter().map(|role| view! {
                        <label class="mr-3 inline-flex items-center gap-1"><input type="checkbox" name=format!("roles[{role}]") value="on"/>{role.as_str()}</label>
                    }).collect_view()}
                    <FieldMessage error field="roles" id="invite-roles-error".into()/>
                </fieldset>
                <fieldset class="sm:col-span-2" aria-describedby="invite-teams-error">
                    <legend class="font-medium">"Teams"</legend>
                    {teams.into_iter().map(|team| view! {
                        <label class="mr-3 inline-flex items-center gap-1"><input type="checkbox" name=format!("teams[{}]", team.slug) value="on"/>{team.name}</label>
                    }).collect_view()}
                    <FieldMessage error field="teams" id="invite-teams-error".into()/>
                </fieldset>
                <div class="sm:col-span-2"><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Send invitation"</button></div>
            </ActionForm>
        </section>
    }
}
