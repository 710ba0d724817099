//! `--plot DIR`: SVG charts of a report (plotters, SVG backend only: its text is
//! SVG text, so no font files are needed).

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::report::{Report, ThroughputRun};
use super::BenchError;

const SIZE: (u32, u32) = (800, 500);

fn color(cache: &str) -> RGBColor {
    match cache {
        "depcache" => RGBColor(214, 39, 40),
        "depcache pin()" | "depcache, no dependency" => RGBColor(255, 127, 14),
        "moka" => RGBColor(31, 119, 180),
        "quick_cache" => RGBColor(44, 160, 44),
        "papaya" => RGBColor(80, 80, 80),
        "papaya pin()/call" => RGBColor(160, 160, 160),
        "LRU" | "LRU (mutex)" => RGBColor(148, 103, 189),
        _ => RGBColor(140, 86, 75),
    }
}

type Series = BTreeMap<String, Vec<(f64, f64)>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn Error>>;
/// One group of bars: its label, and the hit ratio of each cache.
type Group<'r> = (String, &'r BTreeMap<String, f64>);

/// Creates `dir` if missing (before the run, so that a bad `--plot` fails fast).
pub fn prepare(dir: &Path) -> Result<(), BenchError> {
    std::fs::create_dir_all(dir).map_err(|e| BenchError::Plot {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes the charts of the sections that ran; returns the files written.
pub fn write(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    prepare(dir)?;
    let mut written = Vec::new();
    let mut draw = |name: &str, f: &dyn Fn(&Area) -> Drawn| {
        let path = dir.join(name);
        let result = {
            let root = SVGBackend::new(&path, SIZE).into_drawing_area();
            root.fill(&WHITE)
                .map_err(Box::<dyn Error>::from)
                .and_then(|_| f(&root))
                .and_then(|_| root.present().map_err(Box::<dyn Error>::from))
        };
        result.map_err(|e| BenchError::Plot {
            path: path.clone(),
            message: e.to_string(),
        })?;
        written.push(path);
        Ok::<_, BenchError>(())
    };
    if !report.invalidate.is_empty() {
        let mut series = Series::new();
        for run in &report.invalidate {
            for r in &run.results {
                series
                    .entry(r.cache.clone())
                    .or_default()
                    .push((run.entries as f64, r.median_ns.max(1) as f64 / 1e3));
            }
        }
        draw("invalidate.svg", &|root| {
            lines(
                root,
                "Drop the 10 entries of one dependency (median)",
                "cache size N (entries)",
                "latency (µs)",
                &series,
                true,
            )
        })?;
    }
    for (file, title, runs) in [
        ("get_hit.svg", "Get hit throughput", &report.get_hit),
        ("zipf.svg", "Zipf mix (get, insert on miss) throughput", &report.zipf),
        ("insert.svg", "Insert throughput (full cache)", &report.insert),
    ] {
        if !runs.is_empty() {
            let series = by_threads(runs);
            draw(file, &|root| lines(root, title, "threads", "Mops/s", &series, false))?;
        }
    }
    if !report.classic.is_empty() {
        // trace -> (size label, cache -> hit %), in the order measured.
        let mut traces: Vec<(&str, Vec<Group>)> = Vec::new();
        for c in &report.classic {
            let label = if c.of_footprint.is_empty() {
                c.size.to_string()
            } else {
                format!("{} ({})", c.size, c.of_footprint)
            };
            match traces.last_mut() {
                Some((t, groups)) if *t == c.trace => groups.push((label, &c.hit_ratio)),
                _ => traces.push((c.trace.as_str(), vec![(label, &c.hit_ratio)])),
            }
        }
        draw("hit_ratio.svg", &|root| {
            // One legend for every panel, in a strip along the top.
            let (strip, panels) = root.split_vertically(30);
            let caches = traces.first().and_then(|t| t.1.first()).map(|g| g.1.keys());
            for (i, cache) in caches.into_iter().flatten().enumerate() {
                let x = 30 + 160 * i as i32;
                strip.draw(&Rectangle::new([(x, 10), (x + 12, 22)], color(cache).filled()))?;
                strip.draw(&Text::new(cache.as_str(), (x + 18, 9), ("sans-serif", 14)))?;
            }
            let cols = traces.len().clamp(1, 2);
            let rows = traces.len().div_ceil(cols).max(1);
            for (area, (trace, groups)) in panels.split_evenly((rows, cols)).iter().zip(&traces) {
                bars(area, trace, groups)?;
            }
            Ok(())
        })?;
    }
    Ok(written)
}

fn by_threads(runs: &[ThroughputRun]) -> Series {
    let mut series = Series::new();
    for run in runs {
        for t in &run.results {
            series
                .entry(t.cache.clone())
                .or_default()
                .push((run.threads as f64, t.ops_per_sec / 1e6));
        }
    }
    series
}

/// A range around `lo..=hi` that is never empty.
fn span(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        (lo / 1.5, hi * 1.5)
    } else if hi > lo {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// Grouped bars: one group per cache size, one bar per cache (hit ratio in %);
/// the legend is the caller's.
fn bars(area: &Area, title: &str, groups: &[Group]) -> Drawn {
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n, 0.0..100.0)?;
    // Labels at the groups' centres only (key points fall on multiples of 0.5).
    let label = |x: &f64| {
        let i = (x - 0.5).round();
        if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
            groups.get(i as usize).map_or_else(String::new, |g| g.0.clone())
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * groups.len() + 1)
        .x_label_formatter(&label)
        .x_desc("cache size (entries)")
        .y_desc("hit ratio (%)")
        .draw()?;
    let caches: Vec<&String> = groups.first().map(|g| g.1.keys().collect()).unwrap_or_default();
    let width = 0.8 / caches.len().max(1) as f64;
    for (j, cache) in caches.iter().enumerate() {
        let c = color(cache);
        chart.draw_series(groups.iter().enumerate().map(|(i, g)| {
            let x0 = i as f64 + 0.1 + j as f64 * width;
            let h = 100.0 * g.1.get(*cache).copied().unwrap_or(0.0);
            Rectangle::new([(x0, 0.0), (x0 + width * 0.9, h)], c.filled())
        }))?;
    }
    Ok(())
}

/// Powers of ten as `1e3`; other log-axis key points unlabelled.
fn decades(v: &f64) -> String {
    let e = v.log10().round();
    if (v / 10f64.powf(e) - 1.0).abs() < 1e-6 {
        if (0.0..3.0).contains(&e) {
            format!("{}", 10f64.powf(e))
        } else {
            format!("1e{e}")
        }
    } else {
        String::new()
    }
}

/// One line (with its points) per cache; log-log axes if `log`, otherwise
/// threads on x and a y axis from 0.
fn lines(area: &Area, title: &str, x_desc: &str, y_desc: &str, series: &Series, log: bool) -> Drawn {
    let all = || series.values().flatten();
    let (xmin, xmax) = all().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (ymin, ymax) = all().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if xmin > xmax {
        return Ok(());
    }
    let (x0, x1) = span(xmin, xmax, log);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60);
    macro_rules! finish {
        ($chart:expr, $x_format:expr, $y_format:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_label_formatter($x_format)
                .y_label_formatter($y_format)
                .x_desc(x_desc)
                .y_desc(y_desc)
                .light_line_style(WHITE)
                .draw()?;
            for (cache, points) in series {
                let c = color(cache);
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
                    .label(cache.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    if log {
        let (y0, y1) = span(ymin.max(1e-3), ymax.max(1e-3), true);
        finish!(
            builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?,
            &decades,
            &decades
        );
    } else {
        finish!(
            builder.build_cartesian_2d(x0..x1, 0.0..(ymax.max(1e-9) * 1.1))?,
            // Thread counts: integers only.
            &|v: &f64| if v.fract() == 0.0 {
                format!("{v}")
            } else {
                String::new()
            },
            &|v: &f64| format!("{}", (v * 100.0).round() / 100.0)
        );
    }
    Ok(())
}
