//! The browser entry point: hydrates the server-rendered page. No logic lives here.
// Leptos' view types nest deeply.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes: their code arrives (with `--split`, as chunks) before they hydrate.
    leptos::mount::hydrate_lazy(app::App);
}
