//! `--report FILE.svg`: two charts, drawn by hand as SVG (no plotting
//! dependency). On the left, the distribution of the time each user waited
//! for the answer, per style: the share of requests answered within each
//! time, on a logarithmic axis, since a few answers take a hundred times
//! the median. On the right, the background work over time: the share of the
//! emails and analytics records settled since the first request.

use super::{Options, Row};
use std::fmt::Write;
use std::time::Duration;

/// The colour of each style's line, in table order.
const COLOURS: [(&str, &str); 5] = [
    ("callbacks", "#1f77b4"),
    ("promises", "#ff7f0e"),
    ("async", "#2ca02c"),
    ("queue", "#d62728"),
    ("bus", "#9467bd"),
];

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 420.0;
/// Each chart's plot area: left edge, top, width, height.
const PLOTS: [(f64, f64, f64, f64); 2] = [(70.0, 70.0, 380.0, 280.0), (550.0, 70.0, 380.0, 280.0)];

/// The SVG document for `rows`.
pub(crate) fn svg(options: &Options, rows: &[Row]) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let outage = match options.mail_outage {
        0 => String::new(),
        n => format!(", mail fails its first {n} requests"),
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="14">{} sign-ups per style over {} connections; mail takes {} ms{outage}</text>"#,
        WIDTH / 2.0,
        options.signups,
        options.connections,
        options.mail_delay.as_millis()
    );

    // Left: the answer times, from 10 µs to the slowest answer, in decades.
    let ack_max = rows
        .iter()
        .filter_map(|row| row.latencies.last())
        .map(|slowest| slowest.as_secs_f64() * 1e3)
        .fold(0.0, f64::max);
    let ack = Chart {
        area: PLOTS[0],
        title: "time to answer (share of requests answered within)",
        x_label: "ms (logarithmic)",
        x_max: 10f64.powf(ack_max.max(0.1).log10().ceil()),
        scale: 1e3,
        log_from: Some(0.01),
    };
    ack.axes(&mut svg);
    for row in rows {
        ack.line(&mut svg, row.style, &row.latencies);
    }

    // Right: the background work, until the last style is done.
    let done_max = rows
        .iter()
        .filter_map(|row| row.completions.last())
        .map(Duration::as_secs_f64)
        .fold(0.0, f64::max);
    let work = Chart {
        area: PLOTS[1],
        title: "background work (share of jobs settled since the first request)",
        x_label: "s",
        x_max: nice(done_max),
        scale: 1.0,
        log_from: None,
    };
    work.axes(&mut svg);
    for row in rows {
        work.line(&mut svg, row.style, &row.completions);
    }

    // The legend, under the charts.
    for (i, row) in rows.iter().enumerate() {
        let x = 70.0 + 150.0 * i as f64;
        let y = HEIGHT - 22.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            x + 24.0,
            colour(row.style),
            x + 30.0,
            y + 4.0,
            row.style
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// One chart: an x axis of durations from 0 to `x_max` (in `x_label`
/// units, seconds times `scale`), a y axis of shares from 0 to 100 %.
struct Chart {
    area: (f64, f64, f64, f64),
    title: &'static str,
    x_label: &'static str,
    x_max: f64,
    scale: f64,
    /// A logarithmic x axis from this value (a power of ten), if not linear.
    log_from: Option<f64>,
}

impl Chart {
    /// Where `x` (in axis units) lies along the x axis, from 0 to 1.
    fn position(&self, x: f64) -> f64 {
        match self.log_from {
            Some(from) => (x.max(from) / from).log10() / (self.x_max / from).log10(),
            None => x / self.x_max,
        }
    }

    /// The x axis's labelled values.
    fn ticks(&self) -> Vec<f64> {
        match self.log_from {
            Some(from) => std::iter::successors(Some(from), |x| Some(x * 10.0))
                .take_while(|&x| x <= self.x_max * 1.001)
                .collect(),
            None => (0..=4).map(|tick| f64::from(tick) / 4.0 * self.x_max).collect(),
        }
    }

    /// The frame, the grid, the tick labels and the title.
    fn axes(&self, svg: &mut String) {
        let (left, top, width, height) = self.area;
        let bottom = top + height;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            left + width / 2.0,
            top - 14.0,
            self.title
        );
        for tick in 0..=4 {
            let y = bottom - f64::from(tick) / 4.0 * height;
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}%</text>"##,
                left + width,
                left - 6.0,
                y + 4.0,
                tick * 25
            );
        }
        for value in self.ticks() {
            let x = left + self.position(value) * width;
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                bottom + 16.0,
                label(value)
            );
        }
        let _ = writeln!(
            svg,
            r#"<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="black"/><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            left + width / 2.0,
            bottom + 34.0,
            self.x_label
        );
    }

    /// The cumulative distribution of `values` (sorted), as one line.
    fn line(&self, svg: &mut String, style: &str, values: &[Duration]) {
        if values.is_empty() || self.x_max <= 0.0 {
            return;
        }
        let (left, top, width, height) = self.area;
        let mut points = format!("{left:.1},{:.1}", top + height);
        for step in 0..=200 {
            let share = f64::from(step) / 200.0;
            let x = self.position(quantile(values, share).as_secs_f64() * self.scale);
            if x > 1.0 {
                break; // past the axis
            }
            let _ = write!(
                points,
                " {:.1},{:.1}",
                left + x * width,
                top + height - share * height
            );
        }
        let _ = writeln!(
            svg,
            r#"<polyline points="{points}" fill="none" stroke="{}" stroke-width="2"/>"#,
            colour(style)
        );
    }
}

/// The value below which `share` of the sorted `values` lie.
fn quantile(values: &[Duration], share: f64) -> Duration {
    match values.len() {
        0 => Duration::ZERO,
        n => values[((n as f64 * share) as usize).min(n - 1)],
    }
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `x`.
fn nice(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&candidate| candidate >= x)
        .unwrap_or(10.0 * power)
}

/// A tick label: no more digits than it needs.
fn label(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn colour(style: &str) -> &'static str {
    COLOURS
        .iter()
        .find(|(name, _)| *name == style)
        .map_or("black", |(_, colour)| colour)
}
