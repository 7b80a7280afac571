//! Atrium's web app: routes, pages and the server functions behind them, shared by the
//! server (SSR, feature `ssr`) and the browser (hydration, feature `hydrate`).
//!
//! Pages are rendered completely on the server (`SsrMode::Async`) so that each answers with
//! the right status (403, 404, 503) and works before the wasm has loaded.

pub mod api;
pub mod domain;
pub mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900">
                <App/>
            </body>
        </html>
    }
}

/// The stylesheet's address. With cargo-leptos' `hash-files` its name carries a hash of its
/// content (read from the hash file beside the server binary, as Leptos does for the wasm and
/// script), so browsers may keep it for good.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let (pkg, name) = (&options.site_pkg_dir, &options.output_name);
    match options.hash_files.then(css_hash).flatten() {
        Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
        None => format!("/{pkg}/{name}.css"),
    }
}

/// Where cargo-leptos writes its hash file: beside the server binary, as Leptos reads it.
#[cfg(feature = "ssr")]
pub fn hash_file() -> Option<std::path::PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join("hash.txt"))
}

#[cfg(feature = "ssr")]
fn css_hash() -> Option<&'static str> {
    static HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let hashes = std::fs::read_to_string(hash_file()?).ok()?;
        hashes.lines().find_map(|line| line.strip_prefix("css:")).map(|hash| hash.trim().to_owned())
    })
    .as_deref()
}

#[cfg(not(feature = "ssr"))]
fn css_hash() -> Option<&'static str> {
    None
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Atrium"/>
        <Router>
            <pages::layout::Header/>
            <main class="mx-auto max-w-5xl px-4 py-8">
                <Routes fallback=pages::errors::NotFoundPage>
                    <Route path=path!("/") view={Lazy::<LandingRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/new-password") view={Lazy::<NewPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams") view={Lazy::<TeamsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team") view={Lazy::<TeamHomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/profiles") view={Lazy::<TeamProfilesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/catalog") view={Lazy::<TeamCatalogRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/ended") view={Lazy::<EndedWorkspacesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/members") view={Lazy::<TeamMembersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/workspaces/:id") view={Lazy::<WorkspaceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalog") view={Lazy::<CatalogAdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/budgets") view={Lazy::<BudgetsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/notifications") view={Lazy::<NotificationsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/teams") view={Lazy::<TeamsAdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/people") view={Lazy::<PeopleRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/costs") view={Lazy::<CostsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Tests and progressive enhancements wait for this mark. Effects run only in the browser, and
/// this one once the page (whose code may have arrived after the app's) has been hydrated.
fn mark_hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// A route whose page the browser loads when it is first shown: with cargo-leptos' `--split`
/// (release builds) each page's code is a wasm chunk of its own, so the first download holds
/// only the router and the shared runtime.
macro_rules! lazy_page {
    ($($route:ident => $page:path),+ $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                Effect::new(|_| mark_hydrated());
                $page().into_any()
            }
        }
    )+};
}

lazy_page! {
    LandingRoute => pages::landing::LandingPage,
    NewPasswordRoute => pages::new_password::NewPasswordPage,
    TeamsRoute => pages::teams::TeamsPage,
    TeamHomeRoute => pages::team_home::TeamHomePage,
    TeamProfilesRoute => pages::team_profiles::TeamProfilesPage,
    TeamCatalogRoute => pages::team_catalog::TeamCatalogPage,
    EndedWorkspacesRoute => pages::team_home::EndedWorkspacesPage,
    TeamMembersRoute => pages::team_members::TeamMembersPage,
    WorkspaceRoute => pages::workspace::WorkspacePage,
    AuditRoute => pages::admin::audit::AuditPage,
    CatalogAdminRoute => pages::admin::catalog::CatalogAdminPage,
    BudgetsRoute => pages::admin::budgets::BudgetsPage,
    NotificationsRoute => pages::admin::notifications::NotificationsPage,
    TeamsAdminRoute => pages::admin::teams::TeamsAdminPage,
    PeopleRoute => pages::admin::people::PeoplePage,
    CostsRoute => pages::costs::CostsPage,
    SettingsRoute => pages::settings::SettingsPage,
}
