use crate::domain::notifications::{NotificationEvent, NotificationTarget};
use crate::features::notifications::{AddNotificationTarget, RemoveNotificationTarget, TestNotificationTarget, load_notification_targets};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/notifications`: Slack and Microsoft Teams webhooks per team or for all, the events
/// each receives, a test message, and removal. URLs are stored in SSM and never shown again.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let add = ServerAction::<AddNotificationTarget>::new();
    let remove = ServerAction::<RemoveNotificationTarget>::new();
    let test = ServerAction::<TestNotificationTarget>::new();
    let targets =
        Resource::new(move || (add.version().get(), remove.version().get(), test.version().get()), |_| load_notification_targets());
    let message = move || {
        let outcome = |r: Option<Result<String, crate::error::AppError>>| r.map(|r| r.map_err(|e| e.to_string()));
        outcome(test.value().get())
            .or_else(|| add.value().get().map(|r| r.map(|_| "Target added.".to_owned()).map_err(|e| e.to_string())))
            .or_else(|| remove.value().get().map(|r| r.map(|_| "Target removed.".to_owned()).map_err(|e| e.to_string())))
    };
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";
    view! {
        <Title text="Notifications · Atrium"/>
        <h1 class="text-2xl font-semibold">"Notifications"</h1>
        {move || message().map(|m| match m {
            Ok(text) => view! { <p role="status" data-testid="notification-message" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">{text}</p> }.into_any(),
            Err(text) => view! { <p role="alert" data-testid="notification-message" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{text}</p> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading targets…"</p> }>
            {move || Suspend::new(async move {
                match targets.await {
                    Ok(list) if list.is_empty() => view! { <p class="mt-6 text-slate-600">"No targets yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mt-6 grid gap-3" data-testid="notification-targets">
                            {list.into_iter().map(|target| view! { <TargetRow target remove test/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 class="font-semibold">"Add a webhook"</h2>
            <ActionForm action=add attr:class="mt-3 grid gap-3 text-sm sm:grid-cols-2">
                <label>"Name"<input name="name" required class=input placeholder="Climate team channel"/></label>
                <label>"Platform"
                    <select name="platform" class=input>
                        <option value="slack">"Slack"</option>
                        <option value="teams">"Microsoft Teams"</option>
                    </select>
                </label>
                <label>"Team (empty for all teams)"<input name="team" class=input placeholder="climate"/></label>
                <label>"Incoming webhook URL"<input name="webhook_url" required type="url" class=input placeholder="https://hooks.slack.com/services/…"/></label>
                <fieldset class="sm:col-span-2">
                    <legend class="font-medium">"Events"</legend>
                    <div class="mt-1 grid gap-1 sm:grid-cols-3">
                        {NotificationEvent::ALL.into_iter().map(|event| view! {
                            <label class="flex items-center gap-2">
                                <input type="checkbox" name=format!("events[{}]", event.as_str()) value="on" checked=true/>{event.label()}
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <div><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Add target"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn TargetRow(
    target: NotificationTarget,
    remove: ServerAction<RemoveNotificationTarget>,
    test: ServerAction<TestNotificationTarget>,
) -> impl IntoView {
    let events: Vec<&str> = target.events.iter().map(|e| e.label()).collect();
    let dead = target.status == "dead";
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="notification-target">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div>
                    <span class="font-semibold">{target.name.clone()}</span>
                    <span class="ml-2 text-slate-500">{format!("{} · {} · {}", target.platform.label(), target.team.clone().unwrap_or_else(|| "all teams".into()), target.url_hint)}</span>
                    {dead.then(|| view! { <span class="ml-2 rounded bg-red-100 px-2 py-0.5 text-red-800" data-testid="target-dead">"dead: not delivering"</span> })}
                </div>
                <div class="flex gap-2">
                    <ActionForm action=test>
                        <input type="hidden" name="id" value=target.id.to_string()/>
                        <button type="submit" class="rounded border border-slate-300 px-3 py-1">"Send test"</button>
                    </ActionForm>
                    <ActionForm action=remove>
                        <input type="hidden" name="id" value=target.id.to_string()/>
                        <button type="submit" class="rounded border border-red-300 px-3 py-1 text-red-700">"Remove"</button>
                    </ActionForm>
                </div>
            </div>
            <p class="mt-1 text-slate-600">{events.join(", ")}</p>
            {target.last_error.map(|e| view! { <p class="mt-1 text-amber-800">"Last problem: "{e}</p> })}
        </li>
    }
}
