//! depcache's CLOCK keeps up with exact LRU on a real trace (lirs-cs), both
//! replayed in the same run: a ratio, not a timing, so it holds in debug builds.
//! The full comparison (more traces, sizes, moka, quick_cache) is
//! `cargo run --release -p depcache-cli --example hit_ratio`.

use std::io::Cursor;

use depcache_cli::classic::{classic_dir, footprint, load, replay, Depcache, Format, Lru, TraceReader};

/// Points of hit ratio depcache may trail LRU by.
const TOLERANCE: f64 = 0.5;

#[test]
fn depcache_keeps_up_with_lru_on_lirs_cs() {
    let keys = load(&classic_dir().join("lirs-cs.trace.gz"), None).expect("testdata/classic/lirs-cs.trace.gz");
    // The reader saw the whole trace (the two `*` separator lines skipped).
    assert_eq!(keys.len(), 6781);
    let fp = footprint(&keys);
    assert_eq!(fp, 1409);

    let size = fp / 2;
    let dc = replay(&mut Depcache::new(size), &keys);
    let lru = replay(&mut Lru::new(size), &keys);
    println!(
        "lirs-cs at {size} entries: depcache {:.2}%, LRU {:.2}%",
        dc.percent(),
        lru.percent()
    );
    assert_eq!(dc.refs, lru.refs);
    assert!(
        dc.percent() >= lru.percent() - TOLERANCE,
        "depcache {:.2}% < LRU {:.2}% - {TOLERANCE}",
        dc.percent(),
        lru.percent()
    );
}

#[test]
fn reader_parses_both_formats() {
    let lirs = "5\r\n*\r\n\r\n7\r\n5\n";
    let got: Vec<u64> = TraceReader::new(Cursor::new(lirs), Format::Lirs)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, [5, 7, 5]);

    let arc = "10 3 0 0\n4 1 0 1\n9 0 0 2\n";
    let got: Vec<u64> = TraceReader::new(Cursor::new(arc), Format::Arc)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, [10, 11, 12, 4]);

    let bad = TraceReader::new(Cursor::new("1\nx\n"), Format::Lirs).collect::<Result<Vec<u64>, _>>();
    assert!(bad.unwrap_err().to_string().contains("line 2"));
}
