use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// A whole-page error that also sets the response status when rendered on the server.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::caller::set_page_status(error.status());
    let status = error.status();
    let title = error.title();
    let sign_in = matches!(error, AppError::NotSignedIn);
    view! {
        <Title text=format!("{title} · Atrium")/>
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8 text-center shadow-sm" data-testid="error-page">
            <p class="text-sm font-medium text-slate-500">{format!("Error {status}")}</p>
            <h1 class="mt-2 text-2xl font-semibold">{title}</h1>
            <p class="mt-3 text-slate-600">{error.to_string()}</p>
            <p class="mt-6">
                {if sign_in {
                    view! { <a class="text-indigo-700 underline" href="/">"Sign in"</a> }.into_any()
                } else {
                    view! { <a class="text-indigo-700 underline" href="/teams">"Back to your teams"</a> }.into_any()
                }}
            </p>
        </section>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! { <ErrorPanel error=AppError::NotFound("This page".into())/> }
}
