use crate::domain::tokens::{MAX_TOKEN_DAYS, Scope, TokenView};
use crate::features::account::{CreateToken, RevokeToken, load_tokens, whoami};
use crate::pages::errors::ErrorPanel;
use crate::pages::forms::{FieldMessage, last_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/settings/tokens`: personal access tokens for the API and the `atrium` CLI.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| load_tokens());
    let admin = Resource::new(|| (), |_| async move { whoami().await.ok().flatten().is_some_and(|user| user.is_admin()) });
    let error = last_error(create);
    view! {
        <Title text="API tokens · Atrium"/>
        <h1 class="text-2xl font-semibold">"API tokens"</h1>
        <p class="mt-2 max-w-prose text-sm text-slate-700">
            "A token lets a script or the " <code>"atrium"</code> " command-line tool act as you on the "
            <a class="text-indigo-700 underline" href="/api/docs" rel="external">"Atrium API"</a>
            ", with no more than the scopes you give it. It is shown once: keep it like a password."
        </p>
        {move || create.value().get().and_then(|r| r.ok()).map(|created| view! {
            <section role="status" data-testid="new-token" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-900">
                <p class="font-semibold">{format!("Token \"{}\" created. Copy it now: it will not be shown again.", created.token.name)}</p>
                <label class="mt-2 block" for="new-token-secret">"Your token"</label>
                <input id="new-token-secret" data-testid="token-secret" readonly class="mt-1 w-full rounded border border-slate-300 bg-white p-2 font-mono" value=created.secret/>
                <p class="mt-2">"Then: " <code>{"atrium login --url <this portal's address>"}</code> " and paste it."</p>
            </section>
        })}
        {move || error.get().map(|e| view! {
            <p role="alert" data-testid="token-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e.to_string()}</p>
        })}
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
            <h2 class="font-semibold">"New token"</h2>
            <ActionForm action=create attr:class="mt-3 grid gap-3 sm:grid-cols-2" attr:data-testid="create-token">
                <div>
                    <label for="token-name" class="block font-medium">"Name"</label>
                    <input id="token-name" name="name" required maxlength="80" placeholder="e.g. pipeline on hpc-login1"
                        aria-describedby="token-name-error" class="mt-1 w-full rounded border border-slate-300 p-1.5"/>
                    <FieldMessage error field="name" id="token-name-error".into()/>
                </div>
                <div>
                    <label for="token-days" class="block font-medium">{format!("Expires in (days, at most {MAX_TOKEN_DAYS})")}</label>
                    <input id="token-days" name="days" type="number" min="1" max=MAX_TOKEN_DAYS.to_string() value="30" required
                        aria-describedby="token-days-error" class="mt-1 w-full rounded border border-slate-300 p-1.5"/>
                    <FieldMessage error field="days" id="token-days-error".into()/>
                </div>
                <fieldset class="sm:col-span-2" aria-describedby="token-scopes-error">
                    <legend class="font-medium">"Scopes"</legend>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let admin = admin.await;
                            Scope::ALL.into_iter().filter(|scope| admin || *scope != Scope::Admin).map(|scope| view! {
                                <label class="mt-1 flex items-center gap-2">
                                    <input type="checkbox" name=format!("scope_{}", scope.as_str()) value="on" checked=scope != Scope::Admin/>
                                    {scope.describe()}
                                </label>
                            }).collect_view()
                        })}
                    </Suspense>
                    <FieldMessage error field="scopes" id="token-scopes-error".into()/>
                </fieldset>
                <div class="sm:col-span-2"><button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Create token"</button></div>
            </ActionForm>
        </section>
        <Suspense fallback=|| view! { <p class="mt-6">"Loading your tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! {
                        <TokenTable title="Your tokens" tokens=list.mine revoke show_owner=false testid="my-tokens"/>
                        {(!list.everyone.is_empty()).then(|| view! {
                            <TokenTable title="Everyone's active tokens" tokens=list.everyone revoke show_owner=true testid="all-tokens"/>
                        })}
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenTable(
    title: &'static str,
    tokens: Vec<TokenView>,
    revoke: ServerAction<RevokeToken>,
    show_owner: bool,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <section class="mt-8">
            <h2 class="text-lg font-semibold">{title}</h2>
            {if tokens.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-700">"None yet."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 w-full border-collapse text-left text-sm" data-testid=testid>
                        <thead><tr class="border-b border-slate-300">
                            {show_owner.then(|| view! { <th scope="col" class="py-1 pr-3">"Owner"</th> })}
                            <th scope="col" class="py-1 pr-3">"Name"</th>
                            <th scope="col" class="py-1 pr-3">"Scopes"</th>
                            <th scope="col" class="py-1 pr-3">"Expires"</th>
                            <th scope="col" class="py-1 pr-3">"Last used"</th>
                            <th scope="col" class="py-1 pr-3">"Status"</th>
                            <th scope="col" class="py-1"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {tokens.into_iter().map(|token| {
                                let label = format!("Revoke {}", token.name);
                                view! {
                                    <tr class="border-b border-slate-200" data-token=token.name.clone()>
                                        {show_owner.then(|| view! { <td class="py-1 pr-3">{token.owner.clone()}</td> })}
                                        <td class="py-1 pr-3">{token.name.clone()}</td>
                                        <td class="py-1 pr-3">{token.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                        <td class="py-1 pr-3">{token.expires_at.clone()}</td>
                                        <td class="py-1 pr-3">{token.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                                        <td class="py-1 pr-3" data-testid="token-status">{token.status.clone()}</td>
                                        <td class="py-1">
                                            {(token.status == "active").then(|| view! {
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="id" value=token.id.to_string()/>
                                                    <button type="submit" aria-label=label class="rounded border border-red-300 px-2 py-0.5 text-red-800">"Revoke"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
