use crate::domain::costs::{DEFAULT_THRESHOLDS, MonthBudget};
use crate::domain::dollars;
use crate::features::costs::{SetBudget, load_budgets};
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/budgets`: each team's month (spent, forecast) against its budget, and a form per
/// team to set the monthly amount and the alert thresholds.
#[component]
pub fn BudgetsPage() -> impl IntoView {
    let save = ServerAction::<SetBudget>::new();
    let budgets = Resource::new(move || save.version().get(), |_| load_budgets());
    view! {
        <Title text="Budgets · Atrium"/>
        <h1 class="text-2xl font-semibold">"Budgets"</h1>
        <p class="mt-1 text-slate-600">
            "A monthly budget per team. An alert goes out once a month at each threshold the forecast reaches; "
            "launches that would take a team over its budget are refused unless an administrator overrides."
        </p>
        {move || save.value().get().map(|result| match result {
            Ok(()) => view! { <p role="status" data-testid="budget-saved" class="mt-4 rounded border border-green-200 bg-green-50 p-3 text-sm text-green-800">"Budget saved."</p> }.into_any(),
            Err(error) => view! { <p role="alert" data-testid="budget-error" class="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">{error.to_string()}</p> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p class="mt-6">"Loading budgets…"</p> }>
            {move || Suspend::new(async move {
                match budgets.await {
                    Ok(months) => view! {
                        <ul class="mt-6 grid gap-4" data-testid="budgets">
                            {months.into_iter().map(|month| view! { <BudgetRow month save/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn BudgetRow(month: MonthBudget, save: ServerAction<SetBudget>) -> impl IntoView {
    let thresholds = if month.thresholds.is_empty() { DEFAULT_THRESHOLDS.to_vec() } else { month.thresholds.clone() };
    let thresholds = thresholds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    let amount = month.budget_cents.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default();
    let status = match month.budget_cents {
        Some(budget) => format!(
            "{}: spent {}, forecast {} of {} ({}%)",
            month.month,
            dollars(month.spent_cents),
            dollars(month.forecast_cents),
            dollars(budget),
            month.forecast_percent().unwrap_or_default()
        ),
        None => format!("{}: spent {}, forecast {}; no budget", month.month, dollars(month.spent_cents), dollars(month.forecast_cents)),
    };
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="budget-row">
            <h2 class="font-semibold">{month.team_name.clone()}</h2>
            <p class="text-sm text-slate-600">{status}</p>
            <ActionForm action=save attr:class="mt-3 grid gap-3 text-sm sm:grid-cols-[1fr_1fr_auto] sm:items-end">
                <input type="hidden" name="team" value=month.team.clone()/>
                <label>"Monthly budget (USD)"<input name="amount" required value=amount class=input inputmode="decimal"/></label>
                <label>"Alert at (% of budget)"<input name="thresholds" value=thresholds class=input/></label>
                <button type="submit" class="rounded bg-indigo-700 px-3 py-1.5 text-white">"Save budget"</button>
            </ActionForm>
        </li>
    }
}
