//! Atrium's web app: routes, pages and the server functions behind them, shared by the
//! server (SSR, feature `ssr`) and the browser (hydration, feature `hydrate`).
//!
//! Pages are rendered completely on the server (`SsrMode::Async`) so that each answers with
//! the right status (403, 404, 503) and works before the wasm has loaded.
// Leptos' concrete view types (release builds) nest deeper than the default limit.
#![recursion_limit = "512"]

#[cfg(feature = "ssr")]
pub mod caller;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod domain;
pub mod error;
pub mod features;
mod pages;

use leptos::lazy;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode,
    components::{Route, Router, Routes},
    path,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    allow_this_pages_scripts();
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

/// Sends the Content-Security-Policy with this response's nonce, which Leptos puts on the
/// page's inline scripts (hydration and resources): they run, no other inline script does.
#[cfg(feature = "ssr")]
fn allow_this_pages_scripts() {
    let (Some(nonce), Some(response), Some(services)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>(), use_context::<std::sync::Arc<features::Services>>())
    else {
        return;
    };
    if let Ok(policy) = http::HeaderValue::from_str(&services.content_security_policy.with_nonce(&nonce.to_string())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
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
    pages::layout::SignedInUser::provide();

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
                    <Route path=path!("/teams/:team/studies") view={Lazy::<StudiesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/studies/:id") view={Lazy::<StudyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/requests") view={Lazy::<RequestsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/requests/:id") view={Lazy::<RequestRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/teams/:team/scratch") view={Lazy::<ScratchRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/workspaces/:id") view={Lazy::<WorkspaceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalog") view={Lazy::<CatalogAdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/budgets") view={Lazy::<BudgetsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/notifications") view={Lazy::<NotificationsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/teams") view={Lazy::<TeamsAdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/people") view={Lazy::<PeopleRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/workspaces") view={Lazy::<AdminWorkspacesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/costs") view={Lazy::<CostsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async/>
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

/// The pages come in two wasm modules, loaded when the first of their pages is shown: the ones
/// a researcher meets, and the ones only admins and cost viewers use. With cargo-leptos'
/// `--split` the first download then holds only the router and the shared runtime. (One module
/// per page made wasm-split cut the code shared between pages into a chunk per set of pages
/// sharing it: over a hundred files and preload links per page.)
#[derive(Clone, Copy)]
enum ResearcherPage {
    Landing,
    NewPassword,
    Teams,
    TeamHome,
    TeamProfiles,
    TeamCatalog,
    EndedWorkspaces,
    TeamMembers,
    Studies,
    Study,
    Requests,
    Request,
    Scratch,
    Workspace,
    Settings,
    Tokens,
}

#[lazy]
fn researcher_page(page: ResearcherPage) -> AnyView {
    Effect::new(|_| mark_hydrated());
    match page {
        ResearcherPage::Landing => pages::landing::LandingPage().into_any(),
        ResearcherPage::NewPassword => pages::new_password::NewPasswordPage().into_any(),
        ResearcherPage::Teams => pages::teams::TeamsPage().into_any(),
        ResearcherPage::TeamHome => pages::team_home::TeamHomePage().into_any(),
        ResearcherPage::TeamProfiles => pages::team_profiles::TeamProfilesPage().into_any(),
        ResearcherPage::TeamCatalog => pages::team_catalog::TeamCatalogPage().into_any(),
        ResearcherPage::EndedWorkspaces => pages::team_home::EndedWorkspacesPage().into_any(),
        ResearcherPage::TeamMembers => pages::team_members::TeamMembersPage().into_any(),
        ResearcherPage::Studies => pages::studies::StudiesPage().into_any(),
        ResearcherPage::Study => pages::studies::StudyPage().into_any(),
        ResearcherPage::Requests => pages::studies::RequestsPage().into_any(),
        ResearcherPage::Request => pages::studies::RequestPage().into_any(),
        ResearcherPage::Scratch => pages::studies::ScratchPage().into_any(),
        ResearcherPage::Workspace => pages::workspace::WorkspacePage().into_any(),
        ResearcherPage::Settings => pages::settings::SettingsPage().into_any(),
        ResearcherPage::Tokens => pages::tokens::TokensPage().into_any(),
    }
}

#[derive(Clone, Copy)]
enum AdminPage {
    Audit,
    CatalogAdmin,
    Budgets,
    Notifications,
    TeamsAdmin,
    People,
    AdminWorkspaces,
    Costs,
}

#[lazy]
fn admin_page(page: AdminPage) -> AnyView {
    Effect::new(|_| mark_hydrated());
    match page {
        AdminPage::Audit => pages::admin::audit::AuditPage().into_any(),
        AdminPage::CatalogAdmin => pages::admin::catalog::CatalogAdminPage().into_any(),
        AdminPage::Budgets => pages::admin::budgets::BudgetsPage().into_any(),
        AdminPage::Notifications => pages::admin::notifications::NotificationsPage().into_any(),
        AdminPage::TeamsAdmin => pages::admin::teams::TeamsAdminPage().into_any(),
        AdminPage::People => pages::admin::people::PeoplePage().into_any(),
        AdminPage::AdminWorkspaces => pages::admin::workspaces::AdminWorkspacesPage().into_any(),
        AdminPage::Costs => pages::costs::CostsPage().into_any(),
    }
}

/// A route for each page, showing it from its module, which the router loads (`preload`)
/// before it hydrates the page.
macro_rules! lazy_routes {
    ($load:ident, $preload:ident: $($route:ident => $page:expr),+ $(,)?) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $load($page).await
            }

            async fn preload() {
                // Only the browser loads modules; the server holds all the code.
                #[cfg(target_arch = "wasm32")]
                $preload().await;
            }
        }
    )+};
}

lazy_routes! { researcher_page, __preload_researcher_page:
    LandingRoute => ResearcherPage::Landing,
    NewPasswordRoute => ResearcherPage::NewPassword,
    TeamsRoute => ResearcherPage::Teams,
    TeamHomeRoute => ResearcherPage::TeamHome,
    TeamProfilesRoute => ResearcherPage::TeamProfiles,
    TeamCatalogRoute => ResearcherPage::TeamCatalog,
    EndedWorkspacesRoute => ResearcherPage::EndedWorkspaces,
    TeamMembersRoute => ResearcherPage::TeamMembers,
    StudiesRoute => ResearcherPage::Studies,
    StudyRoute => ResearcherPage::Study,
    RequestsRoute => ResearcherPage::Requests,
    RequestRoute => ResearcherPage::Request,
    ScratchRoute => ResearcherPage::Scratch,
    WorkspaceRoute => ResearcherPage::Workspace,
    SettingsRoute => ResearcherPage::Settings,
    TokensRoute => ResearcherPage::Tokens,
}

lazy_routes! { admin_page, __preload_admin_page:
    AuditRoute => AdminPage::Audit,
    CatalogAdminRoute => AdminPage::CatalogAdmin,
    BudgetsRoute => AdminPage::Budgets,
    NotificationsRoute => AdminPage::Notifications,
    TeamsAdminRoute => AdminPage::TeamsAdmin,
    PeopleRoute => AdminPage::People,
    AdminWorkspacesRoute => AdminPage::AdminWorkspaces,
    CostsRoute => AdminPage::Costs,
}
