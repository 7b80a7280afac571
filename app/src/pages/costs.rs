use crate::api::load_costs;
use crate::domain::costs::{parse_range, CostDashboard, TeamSpend, RANGES};
use crate::domain::dollars;
use crate::error::AppError;
use crate::pages::errors::ErrorPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/costs`: spend per team, user and workspace over a range (a GET form, so each view has a
/// URL and works without JavaScript), a daily stacked chart, budgets and forecasts, and the
/// same figures as CSV. Cost viewers and admins.
#[component]
pub fn CostsPage() -> impl IntoView {
    let query = use_query_map();
    let days = move || parse_range(query.read().get("days").as_deref());
    let dashboard = Resource::new(days, |days| async move {
        match days {
            Ok(days) => load_costs(days).await,
            Err(message) => Err(AppError::BadRequest(message)),
        }
    });
    let chosen = move || days().unwrap_or(crate::domain::costs::DEFAULT_RANGE);
    view! {
        <Title text="Costs · Atrium"/>
        <div class="flex flex-wrap items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Costs"</h1>
            <form method="get" action="/costs" class="flex items-end gap-2 text-sm">
                <label>"Range"
                    <select name="days" class="ml-2 rounded border border-slate-300 px-2 py-1" data-testid="costs-range">
                        {RANGES.into_iter().map(|d| view! {
                            <option value=d.to_string() selected=move || chosen() == d>{format!("Last {d} days")}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="rounded bg-indigo-700 px-3 py-1 text-white">"Show"</button>
                <a data-testid="costs-csv" rel="external" class="rounded border border-slate-300 px-3 py-1"
                    href=move || format!("/costs.csv?days={}", chosen())>"Download CSV"</a>
            </form>
        </div>
        <Suspense fallback=|| view! { <p class="mt-4">"Loading costs…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(dashboard) => view! { <Dashboard dashboard/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

const PALETTE: [&str; 8] = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#475569", "#65a30d"];

#[component]
fn Dashboard(dashboard: CostDashboard) -> impl IntoView {
    let CostDashboard { days, day_labels, teams, users, workspaces, total_cents, alerts, synced_at, auto_stop_saved_cents } = dashboard;
    let th = "p-2 text-left font-medium";
    let num = "p-2 text-right tabular-nums";
    view! {
        <p class="mt-4 text-slate-600">
            "Spend over the last " {days} " days: "
            <span class="text-xl font-semibold text-slate-900" data-testid="costs-total">{dollars(total_cents)}</span>
            <span class="ml-3 text-sm text-slate-500">{match synced_at {
                Some(at) => format!("Synced from Cost Explorer {at}."),
                None => "Not synced from Cost Explorer yet.".to_owned(),
            }}</span>
        </p>
        <p class="mt-2 text-slate-600">
            "Saved by auto-stop this month: "
            <span class="font-semibold text-green-800" data-testid="auto-stop-saved">{dollars(auto_stop_saved_cents)}</span>
            <span class="ml-2 text-sm text-slate-500">"(hours stopped after an idle, nightly, maximum or sign-out stop, at each configuration's estimate)"</span>
        </p>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <SpendChart day_labels teams=teams.clone()/>
        </section>
        {(!alerts.is_empty()).then(|| view! {
            <section class="mt-4 rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900" data-testid="budget-alerts">
                <h2 class="font-semibold">"Budget alerts this month"</h2>
                <ul class="mt-2 list-disc pl-5">
                    {alerts.into_iter().map(|a| view! {
                        <li>{format!("{}: forecast {} crossed {}% of {} ({} UTC)", a.team, dollars(a.forecast_cents), a.threshold, dollars(a.budget_cents), a.at)}</li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <h2 class="mt-8 text-lg font-semibold">"Teams"</h2>
        <table class="mt-2 w-full rounded-lg border border-slate-200 bg-white text-sm" data-testid="team-costs">
            <thead class="bg-slate-100 text-slate-600"><tr>
                <th class=th>"Team"</th><th class=num>{format!("Last {days} days")}</th><th class=num>"This month"</th>
                <th class=num>"Month-end forecast"</th><th class=num>"Budget"</th><th class=num>"Forecast of budget"</th>
            </tr></thead>
            <tbody>
                {teams.into_iter().enumerate().map(|(i, t)| {
                    let percent = t.month.forecast_percent();
                    let tone = match percent { Some(p) if p >= 100 => "text-red-700 font-semibold", Some(p) if p >= 80 => "text-amber-700", _ => "" };
                    view! {
                        <tr class="border-t border-slate-200" data-testid="team-cost-row">
                            <td class="p-2"><span class="mr-2 inline-block h-3 w-3 rounded-sm" style=format!("background:{}", PALETTE[i % PALETTE.len()])></span>{t.month.team_name.clone()}</td>
                            <td class=num data-testid="team-cost-total">{dollars(t.total_cents)}</td>
                            <td class=num>{dollars(t.month.spent_cents)}</td>
                            <td class=num>{dollars(t.month.forecast_cents)}</td>
                            <td class=num>{t.month.budget_cents.map(dollars).unwrap_or_else(|| "none".into())}</td>
                            <td class=format!("{num} {tone}")>{percent.map(|p| format!("{p}%")).unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="mt-8 grid gap-6 md:grid-cols-2">
            <section>
                <h2 class="text-lg font-semibold">"Users"</h2>
                <table class="mt-2 w-full rounded-lg border border-slate-200 bg-white text-sm" data-testid="user-costs">
                    <thead class="bg-slate-100 text-slate-600"><tr><th class=th>"User"</th><th class=num>"Spend"</th></tr></thead>
                    <tbody>
                        {users.into_iter().map(|u| view! {
                            <tr class="border-t border-slate-200">
                                <td class="p-2">{u.label()}</td>
                                <td class=num>{dollars(u.total_cents)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section>
                <h2 class="text-lg font-semibold">"Workspaces"</h2>
                <table class="mt-2 w-full rounded-lg border border-slate-200 bg-white text-sm" data-testid="workspace-costs">
                    <thead class="bg-slate-100 text-slate-600"><tr><th class=th>"Workspace"</th><th class=th>"Team"</th><th class=th>"Owner"</th><th class=num>"Spend"</th></tr></thead>
                    <tbody>
                        {workspaces.into_iter().map(|w| view! {
                            <tr class="border-t border-slate-200">
                                <td class="p-2">{w.name}</td><td class="p-2">{w.team}</td><td class="p-2">{w.owner}</td>
                                <td class=num>{dollars(w.total_cents)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        </div>
    }
}

/// Daily spend stacked by team, drawn on the server as SVG: readable without JavaScript,
/// with dollar and date axes, a legend, and each bar's amount as its tooltip.
#[component]
fn SpendChart(day_labels: Vec<String>, teams: Vec<TeamSpend>) -> impl IntoView {
    const WIDTH: f64 = 760.0;
    const PLOT_HEIGHT: f64 = 220.0;
    const LEFT: f64 = 70.0;
    const TOP: f64 = 12.0;
    let n = day_labels.len().max(1);
    let plot_width = WIDTH - LEFT - 10.0;
    let day_totals: Vec<i64> = (0..n).map(|i| teams.iter().map(|t| t.daily_cents.get(i).copied().unwrap_or(0).max(0)).sum()).collect();
    let top = nice_ceiling(day_totals.iter().copied().max().unwrap_or(0));
    let slot = plot_width / n as f64;
    let y = move |cents: i64| TOP + PLOT_HEIGHT - (cents as f64 / top as f64) * PLOT_HEIGHT;
    let bottom = TOP + PLOT_HEIGHT;
    let legend_y = bottom + 58.0;
    let height = legend_y + 16.0;

    let mut bars = Vec::new();
    for i in 0..n {
        let mut stacked = 0;
        for (t, team) in teams.iter().enumerate() {
            let cents = team.daily_cents.get(i).copied().unwrap_or(0).max(0);
            if cents == 0 {
                continue;
            }
            let (y_top, y_bottom) = (y(stacked + cents), y(stacked));
            stacked += cents;
            let label = format!("{} on {}: {}", team.month.team_name, day_labels.get(i).cloned().unwrap_or_default(), dollars(cents));
            bars.push(view! {
                <rect x=format!("{:.1}", LEFT + i as f64 * slot + slot * 0.1) y=format!("{y_top:.1}")
                    width=format!("{:.1}", slot * 0.8) height=format!("{:.1}", (y_bottom - y_top).max(0.5))
                    fill=PALETTE[t % PALETTE.len()]><title>{label}</title></rect>
            });
        }
    }
    let y_ticks = (0..=4).map(|k| {
        let cents = top * k / 4;
        view! {
            <line x1=LEFT x2=WIDTH - 10.0 y1=format!("{:.1}", y(cents)) y2=format!("{:.1}", y(cents)) stroke="#e2e8f0"/>
            <text x=LEFT - 6.0 y=format!("{:.1}", y(cents) + 4.0) text-anchor="end" font-size="11" fill="#475569">{whole_dollars(cents)}</text>
        }
    }).collect_view();
    let every = n.div_ceil(6).max(1);
    let x_ticks = day_labels.iter().enumerate().filter(|(i, _)| i % every == 0 || *i == n - 1).map(|(i, day)| {
        let x = LEFT + i as f64 * slot + slot / 2.0;
        view! { <text x=format!("{x:.1}") y=bottom + 16.0 text-anchor="middle" font-size="11" fill="#475569">{day.get(5..).unwrap_or(day).to_owned()}</text> }
    }).collect_view();
    let legend = teams.iter().enumerate().map(|(t, team)| {
        let x = LEFT + t as f64 * 150.0;
        view! {
            <rect x=x y=legend_y - 10.0 width="12" height="12" fill=PALETTE[t % PALETTE.len()]/>
            <text x=x + 18.0 y=legend_y font-size="12" fill="#334155">{team.month.team_name.clone()}</text>
        }
    }).collect_view();
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {height}") class="w-full" role="img" data-testid="costs-chart"
            aria-label=format!("Daily spend by team over {n} days, stacked")>
            {y_ticks}
            <line x1=LEFT x2=LEFT y1=TOP y2=bottom stroke="#94a3b8"/>
            <line x1=LEFT x2=WIDTH - 10.0 y1=bottom y2=bottom stroke="#94a3b8"/>
            {bars}
            {x_ticks}
            <text x="14" y=TOP + PLOT_HEIGHT / 2.0 font-size="11" fill="#475569" text-anchor="middle"
                transform=format!("rotate(-90 14 {})", TOP + PLOT_HEIGHT / 2.0)>"USD per day"</text>
            <text x=LEFT + plot_width / 2.0 y=bottom + 32.0 font-size="11" fill="#475569" text-anchor="middle">"Day (UTC)"</text>
            {legend}
        </svg>
    }
}

/// A round number of cents at or above `cents`, for the chart's top: 1, 2 or 5 times a power of ten dollars.
fn nice_ceiling(cents: i64) -> i64 {
    let mut step = 100;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= cents {
                return step * factor;
            }
        }
        step *= 10;
    }
}

fn whole_dollars(cents: i64) -> String {
    let text = dollars(cents);
    text.strip_suffix(".00").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::nice_ceiling;

    #[test]
    fn the_chart_top_is_a_round_amount_above_the_highest_day() {
        assert_eq!(nice_ceiling(0), 100);
        assert_eq!(nice_ceiling(150), 200);
        assert_eq!(nice_ceiling(4_999), 5_000);
        assert_eq!(nice_ceiling(5_001), 10_000);
    }
}
