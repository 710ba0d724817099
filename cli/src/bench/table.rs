//! The human-readable report on stdout.

use std::fmt::Write;

use super::report::{Report, ThroughputRun, DEPCACHE};

/// The whole report as text.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    header(&mut out, r);
    if !r.get_hit.is_empty() {
        let _ = writeln!(
            out,
            "\nget hit — {} entries preloaded (capacity twice that), uniform random keys, foldhash everywhere",
            r.settings.get_hit_entries
        );
        throughput(&mut out, &r.get_hit, false);
    }
    if !r.zipf.is_empty() {
        let _ = writeln!(
            out,
            "\nzipf mix — get, insert on a miss; Zipf s = {} over {} keys, capacity {}",
            r.settings.zipf_s, r.settings.zipf_keys, r.settings.zipf_capacity
        );
        throughput(&mut out, &r.zipf, true);
    }
    if !r.insert.is_empty() {
        let _ = writeln!(
            out,
            "\ninsert — into a full cache of {} entries, uniform random keys from twice that (replacing and evicting)",
            r.settings.insert_capacity
        );
        throughput(&mut out, &r.insert, false);
    }
    if !r.get_hit.is_empty() || !r.zipf.is_empty() || !r.insert.is_empty() {
        let _ = writeln!(
            out,
            "× = depcache's throughput / this cache's, same run (> 1: depcache is faster); × no dep: depcache's without dependencies"
        );
    }
    if !r.invalidate.is_empty() {
        invalidation(&mut out, r);
    }
    if !r.classic.is_empty() {
        classic(&mut out, r);
    }
    out
}

fn header(out: &mut String, r: &Report) {
    let m = &r.machine;
    let load = m
        .load_average
        .map(|l| format!(", load average {:.2} {:.2} {:.2} at start", l[0], l[1], l[2]))
        .unwrap_or_default();
    let _ = writeln!(out, "depcache bench — {} ({} CPUs), {}{load}", m.cpu, m.cpus, m.os);
    let s = &r.settings;
    let _ = writeln!(
        out,
        "{}{} s per throughput measurement (best of 3 interleaved windows), up to {} s per invalidation measurement",
        if s.quick { "--quick: " } else { "" },
        s.secs,
        s.invalidate_budget_secs
    );
}

fn throughput(out: &mut String, runs: &[ThroughputRun], hits: bool) {
    let hit_col = if hits { format!("{:>8}", "hit%") } else { String::new() };
    let no_dep = runs.iter().any(|r| !r.no_dep_ratios.is_empty());
    let no_dep_col = if no_dep {
        format!(" {:>11}", "× no dep")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{:<8} {:<24} {:>10}{hit_col} {:>11}{no_dep_col}",
        "threads", "cache", "Mops/s", "×"
    );
    for run in runs {
        for t in &run.results {
            let hit = match (hits, t.hit_ratio) {
                (true, Some(h)) => format!("{:>7.1}%", 100.0 * h),
                _ => String::new(),
            };
            let ratio = |m: &std::collections::BTreeMap<String, f64>| {
                m.get(&t.cache).map_or_else(String::new, |x| format!("{x:.2}×"))
            };
            let extra = if no_dep {
                format!(" {:>11}", ratio(&run.no_dep_ratios))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{:<8} {:<24} {:>10.2}{hit} {:>11}{extra}",
                run.threads,
                t.cache,
                t.ops_per_sec / 1e6,
                ratio(&run.ratios)
            );
        }
    }
}

fn invalidation(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "\ninvalidate by dependency — drop the 10 entries of one dependency among N entries"
    );
    let _ = writeln!(
        out,
        "{:<9} {:<12} {:>6} {:>10} {:>10} {:>10} {:>15}",
        "N", "cache", "reps", "median", "p99", "×", "removed"
    );
    for run in &r.invalidate {
        for i in &run.results {
            let ratio = run
                .ratios
                .get(&i.cache)
                .map_or_else(String::new, |x| format!("{x:.1}×"));
            let _ = writeln!(
                out,
                "{:<9} {:<12} {:>6} {:>10} {:>10} {:>10} {:>15}",
                run.entries,
                i.cache,
                i.reps,
                duration(i.median_ns),
                duration(i.p99_ns),
                ratio,
                format!("{}/{}", i.removed, i.expected_removed)
            );
        }
    }
    let _ = writeln!(
        out,
        "× = this cache's median / depcache's (> 1: depcache is faster); removed = entries checked gone after the"
    );
    let _ = writeln!(
        out,
        "timed part / 10 per repetition. depcache: invalidate(dep); moka: invalidate_entries_if, timed until"
    );
    let _ = writeln!(out, "run_pending_tasks has removed them; quick_cache: retain.");
    for run in &r.invalidate {
        for i in &run.results {
            if i.wrong_len > 0 || i.left_in_place > 0 || i.wrong_count.is_some_and(|c| c > 0) {
                let _ = writeln!(
                    out,
                    "note: {} at N = {}: {} entries left in place, {} repetitions with a wrong entry count{}",
                    i.cache,
                    run.entries,
                    i.left_in_place,
                    i.wrong_len,
                    i.wrong_count
                        .map_or_else(String::new, |c| format!(", {c} wrong invalidate() counts"))
                );
            }
        }
    }
}

fn classic(out: &mut String, r: &Report) {
    const PEERS: [&str; 3] = ["LRU", "moka", "quick_cache"];
    let _ = writeln!(
        out,
        "\nhit ratio on the classic traces (%) — single-threaded, get + insert on a miss"
    );
    let _ = writeln!(
        out,
        "{:<20} {:>6} {:>5} {:>8} {:>9} {:>9} {:>7} {:>7} {:>11} {:>8}",
        "trace", "size", "%fp", "refs", "footprint", DEPCACHE, PEERS[0], PEERS[1], PEERS[2], "dc−LRU"
    );
    for c in &r.classic {
        let pct = |name: &str| c.hit_ratio.get(name).map_or(f64::NAN, |h| 100.0 * h);
        let _ = writeln!(
            out,
            "{:<20} {:>6} {:>5} {:>8} {:>9} {:>9.2} {:>7.2} {:>7.2} {:>11.2} {:>+8.2}",
            c.trace,
            c.size,
            c.of_footprint,
            c.refs,
            c.footprint,
            pct(DEPCACHE),
            pct(PEERS[0]),
            pct(PEERS[1]),
            pct(PEERS[2]),
            c.points_vs.get(PEERS[0]).copied().unwrap_or(f64::NAN)
        );
    }
}

/// Nanoseconds, in the unit that keeps 3 significant digits readable.
pub fn duration(ns: u64) -> String {
    let n = ns as f64;
    if n >= 1e9 {
        format!("{:.2}s", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2}ms", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}µs", n / 1e3)
    } else {
        format!("{ns}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(950), "950ns");
        assert_eq!(duration(9_800), "9.8µs");
        assert_eq!(duration(2_500_000), "2.50ms");
        assert_eq!(duration(1_200_000_000), "1.20s");
    }
}
