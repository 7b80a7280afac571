use crate::domain::costs::{CostDashboard, RANGES, TeamSpend, parse_range};
use crate::domain::dollars;
use crate::error::AppError;
use crate::features::costs::load_costs;
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
    let all = move || query.read().get("all").is_some_and(|all| all == "1");
    let dashboard = Resource::new(
        move || (days(), all()),
        |(days, all)| async move {
            match days {
                Ok(days) => load_costs(days, all).await,
                Err(message) => Err(AppError::BadRequest(message)),
            }
        },
    );
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
    let CostDashboard {
        days,
        day_labels,
        teams,
        users,
        users_count,
        workspaces,
        workspaces_count,
        total_cents,
        alerts,
        synced_at,
        auto_stop_saved_cents,
    } = dashboard;
    let colours = series_colours(&teams);
    // The top spenders only, unless all were asked for: the page stays small however many
    // users and workspaces spend (the CSV has every one).
    let more = move |shown: usize, count: usize, what: &'static str| {
        (shown < count).then(|| {
            view! {
                <p class="mt-2 text-sm text-slate-600" data-testid="costs-more">
                    {format!("The top {shown} of {count} {what}. ")}
                    <a class="text-indigo-700 underline" href=format!("/costs?days={days}&all=1")>"Show all"</a>
                    " or download the CSV."
                </p>
            }
        })
    };
    let (users_shown, workspaces_shown) = (users.len(), workspaces.len());
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
                            <td class="p-2"><span class="mr-2 inline-block h-3 w-3 rounded-sm" style=format!("background:{}", colours[i])></span>{t.month.team_name.clone()}</td>
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
                {more(users_shown, users_count, "users")}
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
                {more(workspaces_shown, workspaces_count, "workspaces")}
            </section>
        </div>
    }
}

/// Teams the chart draws on their own, the highest spenders; the rest are one series.
const CHART_TEAMS: usize = 7;
const OTHER_TEAMS_COLOUR: &str = "#64748b";

/// Each team's colour: its own for the `CHART_TEAMS` highest spenders, the "other teams"
/// colour for the rest.
fn series_colours(teams: &[TeamSpend]) -> Vec<&'static str> {
    let mut colours = vec![OTHER_TEAMS_COLOUR; teams.len()];
    for (rank, &team) in by_spend(teams).iter().take(CHART_TEAMS).enumerate() {
        colours[team] = PALETTE[rank % PALETTE.len()];
    }
    colours
}

/// The teams' indices, highest spender first.
fn by_spend(teams: &[TeamSpend]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..teams.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(teams[i].total_cents));
    order
}

/// Daily spend stacked by team, drawn on the server as SVG: readable without JavaScript,
/// with dollar and date axes, a legend, and each day's total as its tooltip. One path per
/// series (the highest-spending teams, then all others), so the chart's size depends on the
/// range, not on how many teams or workspaces there are.
#[component]
fn SpendChart(day_labels: Vec<String>, teams: Vec<TeamSpend>) -> impl IntoView {
    const WIDTH: f64 = 760.0;
    const PLOT_HEIGHT: f64 = 220.0;
    const LEFT: f64 = 70.0;
    const TOP: f64 = 12.0;
    let n = day_labels.len().max(1);
    let plot_width = WIDTH - LEFT - 10.0;
    let colours = series_colours(&teams);
    // Series in stacking order: the top teams by spend, then "other teams" if any.
    let mut series: Vec<(String, &'static str, Vec<i64>)> = Vec::new();
    let order = by_spend(&teams);
    let daily = |team: &TeamSpend| (0..n).map(|i| team.daily_cents.get(i).copied().unwrap_or(0).max(0)).collect::<Vec<i64>>();
    for &t in order.iter().take(CHART_TEAMS) {
        series.push((teams[t].month.team_name.clone(), colours[t], daily(&teams[t])));
    }
    if teams.len() > CHART_TEAMS {
        let mut others = vec![0; n];
        for &t in order.iter().skip(CHART_TEAMS) {
            for (sum, cents) in others.iter_mut().zip(daily(&teams[t])) {
                *sum += cents;
            }
        }
        series.push((format!("{} other teams", teams.len() - CHART_TEAMS), OTHER_TEAMS_COLOUR, others));
    }
    let day_totals: Vec<i64> = (0..n).map(|i| series.iter().map(|(_, _, cents)| cents[i]).sum()).collect();
    let top = nice_ceiling(day_totals.iter().copied().max().unwrap_or(0));
    let slot = plot_width / n as f64;
    let y = move |cents: i64| TOP + PLOT_HEIGHT - (cents as f64 / top as f64) * PLOT_HEIGHT;
    let bottom = TOP + PLOT_HEIGHT;
    let legend_y = bottom + 58.0;
    let height = legend_y + 16.0;

    let mut stacked = vec![0_i64; n];
    let paths = series
        .iter()
        .map(|(name, colour, cents)| {
            let mut d = String::new();
            for i in 0..n {
                if cents[i] == 0 {
                    continue;
                }
                let (y_top, y_bottom) = (y(stacked[i] + cents[i]), y(stacked[i]));
                stacked[i] += cents[i];
                let x = LEFT + i as f64 * slot + slot * 0.1;
                d.push_str(&format!("M{x:.1} {y_top:.1}h{:.1}V{:.1}h{:.1}Z", slot * 0.8, y_bottom.max(y_top + 0.5), -slot * 0.8));
            }
            let total: i64 = cents.iter().sum();
            view! { <path d=d fill=*colour><title>{format!("{name}: {} over {n} days", dollars(total))}</title></path> }
        })
        .collect_view();
    // Hover targets: each day's total.
    let days = day_labels
        .iter()
        .zip(&day_totals)
        .enumerate()
        .map(|(i, (day, cents))| {
            view! {
                <rect x=format!("{:.1}", LEFT + i as f64 * slot) y=TOP width=format!("{slot:.1}") height=PLOT_HEIGHT fill="transparent">
                    <title>{format!("{day}: {}", dollars(*cents))}</title>
                </rect>
            }
        })
        .collect_view();
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
    let legend_columns = 4;
    let legend = series
        .iter()
        .enumerate()
        .map(|(k, (name, colour, _))| {
            let x = LEFT + (k % legend_columns) as f64 * 170.0;
            let y = legend_y + (k / legend_columns) as f64 * 18.0;
            view! {
                <rect x=x y=y - 10.0 width="12" height="12" fill=*colour/>
                <text x=x + 18.0 y=y font-size="12" fill="#334155">{name.clone()}</text>
            }
        })
        .collect_view();
    let height = height + (series.len().saturating_sub(1) / legend_columns) as f64 * 18.0;
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {height}") class="w-full" role="img" data-testid="costs-chart"
            aria-label=format!("Daily spend by team over {n} days, stacked")>
            {y_ticks}
            <line x1=LEFT x2=LEFT y1=TOP y2=bottom stroke="#94a3b8"/>
            <line x1=LEFT x2=WIDTH - 10.0 y1=bottom y2=bottom stroke="#94a3b8"/>
            {paths}
            {days}
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
