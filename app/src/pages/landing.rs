use crate::domain::SignInMethods;
use crate::features::account::sign_in_methods;
use crate::pages::layout::SignedInUser;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `error` code the sign-in handler redirects back with. One message
/// covers unknown users, wrong passwords and disabled accounts alike.
fn sign_in_message(code: &str) -> &'static str {
    match code {
        "missing" => "Enter your username and password.",
        "challenge" => "That password change took too long. Please sign in again.",
        "throttled" => "Too many failed sign-ins with this username. Please wait a few minutes and try again.",
        "disabled" => "Your account has been disabled. Ask an administrator if you need access again.",
        _ => "We could not sign you in with that username and password. Check both and try again.",
    }
}

#[component]
pub fn LandingPage() -> impl IntoView {
    let query = use_query_map();
    let user = SignedInUser::resource();
    let methods = Resource::new(|| (), |_| sign_in_methods());
    let error = move || query.read().get("error").map(|code| sign_in_message(&code));
    let next = move || query.read().get("next").unwrap_or_default();
    // After a sign-out that stopped workspaces, as the user's settings asked.
    let stopped = move || query.read().get("stopped").and_then(|n| n.parse::<u32>().ok()).filter(|n| *n > 0);
    let submitting = RwSignal::new(false);

    view! {
        <Title text="Atrium · research workspaces in a few clicks"/>
        <div class="grid gap-10 md:grid-cols-2">
            <section>
                <h1 class="text-3xl font-bold tracking-tight">"Research workspaces, without the cloud homework."</h1>
                <p class="mt-4 text-slate-600">
                    "Atrium gives researchers a working cloud workspace — a notebook, a workstation, a cluster — "
                    "in a few clicks, inside their team's own AWS account. Administrators decide what can be "
                    "launched and by whom; budget holders see what it costs."
                </p>
                <ul class="mt-6 space-y-2 text-slate-700">
                    <li>"• Pick one of your teams and see its shared storage and links."</li>
                    <li>"• Launch an approved workspace and watch it come up."</li>
                    <li>"• Connect, stop, start and terminate it yourself."</li>
                </ul>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => view! {
                                <h2 class="text-xl font-semibold">{format!("Welcome back, {}", user.username)}</h2>
                                <p class="mt-4"><a class="text-indigo-700 underline" href="/teams">"Go to your teams"</a></p>
                            }.into_any(),
                            _ => {
                                // Without an answer, offer the password form: it says itself if it is off.
                                let methods = methods.await.unwrap_or(SignInMethods { sso: None, password: true });
                                view! {
                                <h2 class="text-xl font-semibold">"Sign in"</h2>
                                {move || stopped().map(|n| view! {
                                    <p role="status" data-testid="signed-out-stopped" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">
                                        {format!("You are signed out. {n} of your workspaces {} stopping, as your settings ask.", if n == 1 { "is" } else { "are" })}
                                    </p>
                                })}
                                {move || error().map(|message| view! {
                                    <p role="alert" data-testid="sign-in-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{message}</p>
                                })}
                                // rel="external": a full page load, not a client-side route.
                                {methods.sso.clone().map(|provider| view! {
                                    <a href=move || SignInMethods::sso_href(&next()) rel="external" data-testid="sso-sign-in"
                                        class="mt-4 block w-full rounded bg-teal-800 px-4 py-2 text-center font-medium text-white hover:bg-teal-900">
                                        {format!("Sign in with {provider}")}
                                    </a>
                                })}
                                {(methods.sso.is_some() && methods.password).then(|| view! {
                                    <p class="mt-4 text-center text-sm text-slate-600">"or with your Atrium username and password"</p>
                                })}
                                {methods.password.then(|| view! {
                                <form method="post" action="/auth/sign-in" class="mt-4 space-y-4"
                                    on:submit=move |_| submitting.set(true)>
                                    <input type="hidden" name="next" value=next/>
                                    <label class="block">
                                        <span class="text-sm font-medium">"Username"</span>
                                        <input name="username" autocomplete="username" required
                                            class="mt-1 w-full rounded border border-slate-300 px-3 py-2"/>
                                    </label>
                                    <label class="block">
                                        <span class="text-sm font-medium">"Password"</span>
                                        <input name="password" type="password" autocomplete="current-password" required
                                            class="mt-1 w-full rounded border border-slate-300 px-3 py-2"/>
                                    </label>
                                    <button type="submit" disabled=move || submitting.get()
                                        class="w-full rounded bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-60">
                                        {move || if submitting.get() { "Signing in…" } else { "Sign in" }}
                                    </button>
                                </form>
                                })}
                            }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </section>
        </div>
    }
}
