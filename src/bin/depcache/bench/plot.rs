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
        "depcache pin()" => RGBColor(255, 127, 14),
        "moka" => RGBColor(31, 119, 180),
        "quick_cache" => RGBColor(44, 160, 44),
        "papaya" => RGBColor(80, 80, 80),
        "LRU" => RGBColor(148, 103, 189),
        _ => RGBColor(140, 86, 75),
    }
}

type Series = BTreeMap<String, Vec<(f64, f64)>>;

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
    let mut draw = |name: &str, f: &dyn Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), Box<dyn Error>>| {
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
    ] {
        if !runs.is_empty() {
            let series = by_threads(runs);
            draw(file, &|root| lines(root, title, "threads", "Mops/s", &series, false))?;
        }
    }
    if !report.classic.is_empty() {
        let mut traces: BTreeMap<&str, Series> = BTreeMap::new();
        for c in &report.classic {
            for (cache, h) in &c.hit_ratio {
                traces
                    .entry(c.trace.as_str())
                    .or_default()
                    .entry(cache.clone())
                    .or_default()
                    .push((c.size as f64, 100.0 * h));
            }
        }
        draw("hit_ratio.svg", &|root| {
            let cols = traces.len().clamp(1, 2);
            let rows = traces.len().div_ceil(cols).max(1);
            for (area, (trace, series)) in root.split_evenly((rows, cols)).iter().zip(&traces) {
                lines(area, trace, "cache size (entries)", "hit ratio (%)", series, false)?;
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

/// One line (with its points) per cache; log-log axes if `log`, otherwise the
/// y axis starts at 0.
fn lines(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &Series,
    log: bool,
) -> Result<(), Box<dyn Error>> {
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
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
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
        finish!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?);
    } else {
        finish!(builder.build_cartesian_2d(x0..x1, 0.0..(ymax.max(1e-9) * 1.1))?);
    }
    Ok(())
}
