use crate::domain::settings::SignOutStop;
use crate::features::account::{SaveSettings, load_settings};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/settings`: what the signed-in user chooses for themselves.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| load_settings());
    view! {
        <Title text="Settings · Atrium"/>
        <h1 class="text-2xl font-semibold">"Settings"</h1>
        <p class="mt-2 text-sm"><a class="text-indigo-700 underline" href="/settings/tokens">"API tokens"</a>" for scripts and the atrium command-line tool."</p>
        {move || save.value().get().map(|result| match result {
            Ok(_) => view! { <p role="status" data-testid="settings-message" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">"Saved."</p> }.into_any(),
            Err(error) => view! { <p role="alert" data-testid="settings-message" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading your settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(current) => view! {
                        <ActionForm action=save attr:class="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
                            <fieldset>
                                <legend class="font-semibold">"Stop my workspaces when I sign out"</legend>
                                {SignOutStop::ALL.into_iter().map(|choice| view! {
                                    <label class="mt-2 flex items-center gap-2">
                                        <input type="radio" name="stop_on_sign_out" value=choice.as_str() checked=current.stop_on_sign_out == choice/>
                                        {choice.label()}
                                    </label>
                                }).collect_view()}
                            </fieldset>
                            <fieldset class="mt-4">
                                <legend class="font-semibold">"E-mail me"</legend>
                                <p class="text-slate-600">{match &current.email {
                                    Some(email) => format!("Sent to {email}."),
                                    None => "Atrium does not know your address yet: it learns it when you sign in.".to_owned(),
                                }}</p>
                                {[
                                    ("mail_workspace", "When one of my workspaces is about to stop, or stopped, on its own", current.mail_workspace),
                                    ("mail_health", "When one of my workspaces raises a health alarm", current.mail_health),
                                    ("mail_budget", "Budget alerts of the teams I administer", current.mail_budget),
                                ].into_iter().map(|(name, label, checked)| view! {
                                    <label class="mt-2 flex items-center gap-2">
                                        <input type="checkbox" name=name value="on" checked=checked/>{label}
                                    </label>
                                }).collect_view()}
                            </fieldset>
                            <button type="submit" class="mt-4 rounded bg-indigo-700 px-3 py-1.5 text-white">"Save settings"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
