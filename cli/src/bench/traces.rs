//! Hit ratio on the classic block traces (`testdata/classic/`): depcache, LRU,
//! moka and quick_cache replay each trace single-threaded at the sizes of
//! `classic::SPECS` (the ARC paper's sizes for OLTP, fractions of the footprint
//! for the LIRS traces).

use std::collections::BTreeMap;
use std::path::Path;

use depcache_cli::classic::{footprint, load, policies, replay, sizes, SPECS};

use super::report::{ClassicRun, DEPCACHE};
use super::BenchError;

/// Replays every trace of `dir` at its full sizes, or its quick ones.
pub fn run(dir: &Path, quick: bool, mut progress: impl FnMut(&str)) -> Result<Vec<ClassicRun>, BenchError> {
    let mut runs = Vec::new();
    for spec in SPECS {
        let path = dir.join(spec.file);
        if !path.is_file() {
            return Err(BenchError::TracesMissing {
                dir: dir.to_path_buf(),
                file: spec.file,
            });
        }
        let keys = load(&path, None).map_err(|source| BenchError::Trace {
            path: path.clone(),
            source,
        })?;
        let fp = footprint(&keys);
        let trace = spec.file.trim_end_matches(".gz").to_string();
        for (size, label) in sizes(if quick { &spec.quick_sizes } else { &spec.sizes }, fp) {
            progress(&format!("hit ratio, {trace} at {size}"));
            let mut hit_ratio = BTreeMap::new();
            for mut policy in policies(size) {
                let r = replay(policy.as_mut(), &keys);
                hit_ratio.insert(policy.name().to_string(), r.hits as f64 / r.refs.max(1) as f64);
            }
            let ours = hit_ratio.get(DEPCACHE).copied().unwrap_or(0.0);
            let points_vs = hit_ratio
                .iter()
                .filter(|(name, _)| name.as_str() != DEPCACHE)
                .map(|(name, r)| (name.clone(), 100.0 * (ours - r)))
                .collect();
            runs.push(ClassicRun {
                trace: trace.clone(),
                size,
                of_footprint: label,
                refs: keys.len() as u64,
                footprint: fp,
                hit_ratio,
                points_vs,
            });
        }
    }
    Ok(runs)
}
