use crate::domain::CurrentUser;
use crate::error::AppError;
use crate::features::account::whoami;
use leptos::prelude::*;

/// Who is signed in, asked once per page load: the header and the pages share the answer.
#[derive(Clone, Copy)]
pub struct SignedInUser(pub Resource<Result<Option<CurrentUser>, AppError>>);

impl SignedInUser {
    pub fn provide() {
        provide_context(SignedInUser(Resource::new(|| (), |_| whoami())));
    }

    pub fn resource() -> Resource<Result<Option<CurrentUser>, AppError>> {
        use_context::<SignedInUser>().map_or_else(|| Resource::new(|| (), |_| whoami()), |user| user.0)
    }
}

/// The bar on every page: the product name, and who is signed in with a sign-out button.
/// Sign-out is a plain form POST so it works before hydration too.
#[component]
pub fn Header() -> impl IntoView {
    let user = SignedInUser::resource();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl items-center justify-between px-4 py-3">
                <a href="/" class="text-lg font-semibold tracking-tight text-indigo-700">"Atrium"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => {
                                let roles = user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                                let admin = user.is_admin();
                                let costs = admin || user.has_role(crate::domain::Role::CostViewer);
                                view! {
                                    <div class="flex items-center gap-4 text-sm">
                                        <a href="/teams" class="text-slate-700 hover:text-indigo-700">"Teams"</a>
                                        {costs.then(|| view! { <a href="/costs" class="text-slate-700 hover:text-indigo-700">"Costs"</a> })}
                                        {admin.then(|| view! {
                                            <a href="/admin/teams" class="text-slate-700 hover:text-indigo-700">"Teams admin"</a>
                                            <a href="/admin/people" class="text-slate-700 hover:text-indigo-700">"People"</a>
                                            <a href="/admin/workspaces" class="text-slate-700 hover:text-indigo-700">"Workspaces"</a>
                                            <a href="/admin/catalog" class="text-slate-700 hover:text-indigo-700">"Catalog"</a>
                                            <a href="/admin/budgets" class="text-slate-700 hover:text-indigo-700">"Budgets"</a>
                                            <a href="/admin/notifications" class="text-slate-700 hover:text-indigo-700">"Notifications"</a>
                                            <a href="/admin/audit" class="text-slate-700 hover:text-indigo-700">"Audit log"</a>
                                        })}
                                        <a href="/settings" class="text-slate-700 hover:text-indigo-700">"Settings"</a>
                                        <a href="/api/docs" rel="external" class="text-slate-700 hover:text-indigo-700">"API"</a>
                                        <span class="text-slate-500" data-testid="signed-in-as">
                                            {user.username.to_string()} " · " {roles}
                                        </span>
                                        <form method="post" action="/auth/sign-out">
                                            <button type="submit" class="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100">
                                                "Sign out"
                                            </button>
                                        </form>
                                    </div>
                                }.into_any()
                            }
                            _ => ().into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}
