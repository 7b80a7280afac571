//! Pieces the admin forms share: the error of the last submit, and a field's own message.

use crate::error::AppError;
use leptos::prelude::*;

/// The error of an action's last submit, if it failed.
pub fn last_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|result| result.err()))
}

/// The message for one field of the last submit, under that field. `id` is what the field's
/// `aria-describedby` names.
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, field: &'static str, id: String) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field_message(field)).map(|message| {
            view! { <p id=id.clone() class="mt-1 text-sm text-red-700" data-field-error=field>{message}</p> }
        })
    }
}
