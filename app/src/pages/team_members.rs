use crate::domain::people::TeamMembers;
use crate::features::teams::{AddTeamMember, RemoveTeamMember, load_team_members};
use crate::pages::errors::ErrorPanel;
use crate::pages::forms::{FieldMessage, last_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/teams/:team/members`: the team's members, for admins and the team's own team admins,
/// who add and remove researchers and guests.
#[component]
pub fn TeamMembersPage() -> impl IntoView {
    let params = use_params_map();
    let team = move || params.with(|p| p.get("team")).unwrap_or_default();
    let add = ServerAction::<AddTeamMember>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let members = Resource::new(move || (team(), add.version().get(), remove.version().get()), |(team, _, _)| load_team_members(team));
    view! {
        <Suspense fallback=|| view! { <p>"Loading members…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(members) => view! { <MembersView members add remove/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MembersView(members: TeamMembers, add: ServerAction<AddTeamMember>, remove: ServerAction<RemoveTeamMember>) -> impl IntoView {
    let TeamMembers { team, members } = members;
    let slug = team.slug.to_string();
    let add_error = last_error(add);
    // The outcome of whichever of the two was submitted last.
    let outcome = RwSignal::new(None::<Result<&'static str, crate::error::AppError>>);
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            outcome.set(Some(result.map(|()| "Member added. Their access starts with their next click.")));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            outcome.set(Some(result.map(|()| "Member removed. They lose access to the team with their next click.")));
        }
    });
    view! {
        <Title text=format!("Members of {} · Atrium", team.name)/>
        <nav class="text-sm text-slate-500">
            <a href="/teams" class="hover:underline">"Teams"</a>" / "<a href=format!("/teams/{slug}") class="hover:underline">{slug.clone()}</a>" / members"
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">{format!("Members of {}", team.name)}</h1>
        {move || outcome.get().map(|result| match result {
            Ok(message) => view! {
                <p role="status" data-testid="members-message" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">{message}</p>
            }.into_any(),
            Err(error) => view! {
                <p role="alert" data-testid="members-message" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p>
            }.into_any(),
        })}
        <ul class="mt-6 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm shadow-sm" data-testid="members">
            {members.into_iter().map(|member| {
                let name = member.username.to_string();
                let (slug, remove_label, form_name) = (slug.clone(), format!("Remove {name}"), name.clone());
                let roles = member.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                view! {
                    <li class="flex items-center justify-between p-3" data-testid="member" data-username=name.clone()>
                        <span>
                            <span class="font-medium">{name.clone()}</span>
                            <span class="ml-2 text-slate-500">{roles}</span>
                            {member.team_admin.then(|| view! { <span class="ml-2 rounded bg-indigo-100 px-2 py-0.5 text-xs text-indigo-800">"team admin"</span> })}
                            {member.managed_by_provider.then(|| view! { <span class="ml-2 text-xs text-slate-500">"managed by the SSO provider"</span> })}
                        </span>
                        {member.removable.then(|| view! {
                            <ActionForm action=remove>
                                <input type="hidden" name="team" value=slug.clone()/>
                                <input type="hidden" name="username" value=form_name.clone()/>
                                <button type="submit" class="rounded border border-red-300 px-3 py-1 text-red-700">{remove_label.clone()}</button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 class="font-semibold">"Add a member"</h2>
            <ActionForm action=add attr:class="mt-3 flex flex-wrap items-end gap-3 text-sm">
                <input type="hidden" name="team" value=slug.clone()/>
                <div>
                    <label for="member-username" class="font-medium">"Username"</label>
                    <input id="member-username" name="username" required class="mt-1 block rounded border border-slate-300 px-2 py-1" aria-describedby="member-username-error"/>
                    <FieldMessage error=add_error field="username" id="member-username-error".into()/>
                </div>
                <button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Add member"</button>
            </ActionForm>
        </section>
    }
}
