use crate::features::account::load_password_policy;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Shown after a sign-in with a temporary password (Cognito's NEW_PASSWORD_REQUIRED).
#[component]
pub fn NewPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let policy = Resource::new(|| (), |_| load_password_policy());
    let error = move || query.read().get("error");

    view! {
        <Title text="Choose a new password · Atrium"/>
        <section class="mx-auto max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-semibold">"Choose a new password"</h1>
            <p class="mt-2 text-sm text-slate-600">"Your password was temporary. Choose your own to continue."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let rules = policy.await.map(|p| p.rules()).unwrap_or_default();
                    let message = match error().as_deref() {
                        Some("mismatch") => Some("The two passwords do not match.".to_string()),
                        Some("policy") => Some(format!("That password does not meet the password policy. It needs {}.", rules.join(", "))),
                        Some(_) => Some("That did not work. Please try again.".to_string()),
                        None => None,
                    };
                    view! {
                        {message.map(|m| view! {
                            <p role="alert" data-testid="new-password-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{m}</p>
                        })}
                        <ul class="mt-4 list-disc pl-5 text-sm text-slate-600" data-testid="password-policy">
                            {rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
            <form method="post" action="/auth/new-password" class="mt-4 space-y-4">
                <label class="block">
                    <span class="text-sm font-medium">"New password"</span>
                    <input name="new_password" type="password" autocomplete="new-password" required
                        class="mt-1 w-full rounded border border-slate-300 px-3 py-2"/>
                </label>
                <label class="block">
                    <span class="text-sm font-medium">"Repeat it"</span>
                    <input name="confirm_password" type="password" autocomplete="new-password" required
                        class="mt-1 w-full rounded border border-slate-300 px-3 py-2"/>
                </label>
                <button type="submit" class="w-full rounded bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800">
                    "Set password and continue"
                </button>
            </form>
        </section>
    }
}
