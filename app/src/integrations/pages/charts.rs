//! The integrations' plots, drawn as SVG on the server: runs per day (stacked: succeeded,
//! failed, late or missed) with axes and a legend, the p95 duration per day, and the list's
//! sparkline. Every label is text.
use crate::integrations::types::DayPoint;
use leptos::prelude::*;

const OK: &str = "fill-emerald-500";
const BAD: &str = "fill-rose-500";
const LATE: &str = "fill-amber-400";

/// A round upper bound for an axis, and its ticks.
fn ticks(max: f64) -> (f64, Vec<f64>) {
    if max <= 0.0 {
        return (1.0, vec![0.0, 1.0]);
    }
    let step = (0..12)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .find(|s| max / s <= 5.0)
        .unwrap_or(max);
    let top = (max / step).ceil() * step;
    (top, (0..=((top / step) as usize)).map(|i| i as f64 * step).collect())
}

fn legend(items: &[(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <ul class="mt-2 flex flex-wrap gap-4 text-xs text-slate-600 dark:text-slate-400" aria-label="Legend">
            {items.iter().map(|(class, label)| view! {
                <li class="flex items-center gap-1">
                    <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" rx="2" class=*class/></svg>{*label}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// Runs per day, stacked, with a y axis (runs) and dates along x.
#[component]
pub fn DailyRuns(days: Vec<DayPoint>, #[prop(into)] label: String, testid: &'static str) -> impl IntoView {
    let (w, h, left, bottom) = (720.0_f64, 180.0_f64, 40.0_f64, 22.0_f64);
    let max = days.iter().map(|d| (d.counts.ended() + d.counts.late + d.counts.missed) as f64).fold(0.0, f64::max);
    let (top, marks) = ticks(max);
    let n = days.len().max(1) as f64;
    let bw = (w - left) / n;
    let pad = 10.0;
    let y = move |v: f64| pad + (h - bottom - pad) * (1.0 - v / top);
    // a span of months says the year
    let format = if days.len() > 60 { "%d %b %Y" } else { "%d %b" };
    let first = days.first().map(|d| d.day.format(format).to_string()).unwrap_or_default();
    let last = days.last().map(|d| d.day.format(format).to_string()).unwrap_or_default();
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = left + i as f64 * bw + bw * 0.1;
            let bar = (bw * 0.8).max(0.5);
            let ok = d.counts.successes() as f64;
            let bad = (d.counts.failed + d.counts.aborted) as f64;
            let late = (d.counts.late + d.counts.missed) as f64;
            let title = format!("{}: {} succeeded, {} failed, {} late or missed", d.day, ok, bad, late);
            view! {
                <g>
                    <title>{title}</title>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", y(ok)) width=format!("{bar:.1}") height=format!("{:.1}", y(0.0) - y(ok)) class=OK/>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", y(ok + bad)) width=format!("{bar:.1}") height=format!("{:.1}", y(ok) - y(ok + bad)) class=BAD/>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", y(ok + bad + late)) width=format!("{bar:.1}") height=format!("{:.1}", y(ok + bad) - y(ok + bad + late)) class=LATE/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure data-testid=testid>
            <svg viewBox=format!("0 0 {w} {h}") class="w-full text-slate-500" role="img" aria-label=label.clone()>
                {marks.into_iter().map(|m| view! {
                    <line x1=format!("{left}") x2=format!("{w}") y1=format!("{:.1}", y(m)) y2=format!("{:.1}", y(m)) stroke="currentColor" stroke-opacity="0.15"/>
                    <text x=format!("{}", left - 6.0) y=format!("{:.1}", y(m) + 4.0) text-anchor="end" font-size="11" fill="currentColor">{format!("{m}")}</text>
                }).collect_view()}
                <line x1=format!("{left}") x2=format!("{left}") y1=format!("{pad}") y2=format!("{}", h - bottom) stroke="currentColor" stroke-opacity="0.4"/>
                {bars}
                <text x=format!("{left}") y=format!("{}", h - 6.0) font-size="11" fill="currentColor">{first}</text>
                <text x=format!("{w}") y=format!("{}", h - 6.0) font-size="11" text-anchor="end" fill="currentColor">{last}</text>
                <text x="0" y="10" font-size="11" fill="currentColor">"runs"</text>
            </svg>
            {legend(&[(OK, "succeeded"), (BAD, "failed or aborted"), (LATE, "late or missed slot")])}
            <figcaption class="sr-only">{label}</figcaption>
        </figure>
    }
}

/// "45 s", "3.2 min", "1.5 h".
pub fn duration_text(secs: f64) -> String {
    match secs {
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

/// The p95 run duration per day (a bucket's upper bound), with its axis in time.
#[component]
pub fn DailyDuration(days: Vec<DayPoint>, testid: &'static str) -> impl IntoView {
    let (w, h, left, bottom) = (720.0_f64, 140.0_f64, 56.0_f64, 22.0_f64);
    let max = days.iter().filter_map(|d| d.p95_secs).fold(0.0, f64::max);
    let (top, marks) = ticks(max);
    let n = days.len().max(2) as f64;
    let x = move |i: usize| left + (w - left) * i as f64 / (n - 1.0);
    let pad = 10.0;
    let y = move |v: f64| pad + (h - bottom - pad) * (1.0 - v / top);
    let dots: Vec<(f64, f64, String)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.p95_secs.map(|v| (x(i), y(v), format!("{}: p95 {}", d.day, duration_text(v)))))
        .collect();
    let points: Vec<String> = dots.iter().map(|(x, y, _)| format!("{x:.1},{y:.1}")).collect();
    let empty = points.is_empty();
    view! {
        <figure data-testid=testid>
            <svg viewBox=format!("0 0 {w} {h}") class="w-full text-slate-500" role="img" aria-label="p95 run duration per day">
                {marks.into_iter().map(|m| view! {
                    <line x1=format!("{left}") x2=format!("{w}") y1=format!("{:.1}", y(m)) y2=format!("{:.1}", y(m)) stroke="currentColor" stroke-opacity="0.15"/>
                    <text x=format!("{}", left - 6.0) y=format!("{:.1}", y(m) + 4.0) text-anchor="end" font-size="11" fill="currentColor">{duration_text(m)}</text>
                }).collect_view()}
                <polyline points=points.join(" ") fill="none" stroke-width="2" class="stroke-indigo-500"/>
                {dots.into_iter().map(|(x, y, t)| view! { <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r="3" class="fill-indigo-500"><title>{t}</title></circle> }).collect_view()}
                {empty.then(|| view! { <text x=format!("{}", w / 2.0) y=format!("{}", h / 2.0) text-anchor="middle" font-size="12" fill="currentColor">"No timed runs yet"</text> })}
            </svg>
            {legend(&[("fill-indigo-500", "p95 duration (a day's runs)")])}
        </figure>
    }
}

/// Thirty days in a line of small bars, for lists.
#[component]
pub fn Sparkline(days: Vec<DayPoint>) -> impl IntoView {
    let max = days.iter().map(|d| (d.counts.ended() + d.counts.late + d.counts.missed) as f64).fold(1.0, f64::max);
    let summary: i64 = days.iter().map(|d| d.counts.ended()).sum();
    let failed: i64 = days.iter().map(|d| d.counts.failed + d.counts.aborted).sum();
    let late: i64 = days.iter().map(|d| d.counts.late + d.counts.missed).sum();
    let label = format!("30 days: {summary} runs, {failed} failed, {late} late or missed");
    let title = label.clone();
    view! {
        <svg viewBox="0 0 90 20" width="90" height="20" role="img" aria-label=label data-testid="sparkline">
            <title>{title}</title>
            {days.iter().enumerate().map(|(i, d)| {
                let x = i as f64 * 3.0;
                let h = |v: i64| 20.0 * v as f64 / max;
                let ok = h(d.counts.successes());
                let bad = h(d.counts.failed + d.counts.aborted);
                let late = h(d.counts.late + d.counts.missed);
                view! {
                    <rect x=format!("{x}") y=format!("{:.1}", 20.0 - ok) width="2" height=format!("{ok:.1}") class=OK/>
                    <rect x=format!("{x}") y=format!("{:.1}", 20.0 - ok - bad) width="2" height=format!("{bad:.1}") class=BAD/>
                    <rect x=format!("{x}") y=format!("{:.1}", 20.0 - ok - bad - late) width="2" height=format!("{late:.1}") class=LATE/>
                }
            }).collect_view()}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_ends_on_a_round_number() {
        assert_eq!(ticks(7.0), (8.0, vec![0.0, 2.0, 4.0, 6.0, 8.0]));
        assert_eq!(ticks(0.0).0, 1.0);
        assert_eq!(ticks(130.0).0, 150.0);
    }
}
