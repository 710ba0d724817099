//! A/B in one process (`docs/ab/run.sh BASE`): the library of this checkout
//! (`new`) against a base commit (`base`), alternating rounds, medians.
use std::hint::black_box;
use std::time::Instant;

const N: u64 = 100_000;

macro_rules! suite {
    ($m:ident, $c:ident) => {
        mod $m {
            use super::*;
            use $c::Cache;
            fn rng(x: &mut u64) -> u64 {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                *x
            }
            /// ns per get hit.
            pub fn get() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(2 * N as usize);
                for k in 0..N {
                    c.insert(k, k, [k / 10]);
                }
                let mut x = 0x9E3779B97F4A7C15u64;
                let ops = 5_000_000;
                let t = Instant::now();
                let mut s = 0;
                for _ in 0..ops {
                    s += c.get(&(rng(&mut x) % N)).unwrap_or(0);
                }
                black_box(s);
                t.elapsed().as_nanos() as f64 / ops as f64
            }
            /// ns per insert of a fresh key with its own dependency, evicting.
            pub fn insert_own_dep() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(N as usize);
                for k in 0..N {
                    c.insert(k, k, [k]);
                }
                let ops = 1_000_000;
                let t = Instant::now();
                for k in N..N + ops {
                    c.insert(k, k, [k]);
                }
                t.elapsed().as_nanos() as f64 / ops as f64
            }
            /// ns per insert of a fresh key whose dependency is shared (k / 10), evicting.
            pub fn insert_shared_dep() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(N as usize);
                for k in 0..N {
                    c.insert(k, k, [k / 10]);
                }
                let ops = 1_000_000;
                let t = Instant::now();
                for k in N..N + ops {
                    c.insert(k, k, [k / 10]);
                }
                t.elapsed().as_nanos() as f64 / ops as f64
            }
            /// ns per insert of a fresh key without a dependency, evicting.
            pub fn insert_no_dep() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(N as usize);
                for k in 0..N {
                    c.insert(k, k, [0u64; 0]);
                }
                let ops = 1_000_000;
                let t = Instant::now();
                for k in N..N + ops {
                    c.insert(k, k, [0u64; 0]);
                }
                t.elapsed().as_nanos() as f64 / ops as f64
            }
            /// ns per eager invalidation of one dependency with 10 dependents, 1e5 entries.
            pub fn invalidate() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(2 * N as usize);
                for k in 0..N {
                    c.insert(k, k, [k / 10]);
                }
                let deps = N / 10;
                let t = Instant::now();
                let mut n = 0;
                for d in 0..deps {
                    n += c.invalidate(d);
                }
                let e = t.elapsed().as_nanos() as f64 / deps as f64;
                assert_eq!(n as u64, N);
                e
            }
            /// ns per mark_stale of one dependency, 1e5 entries.
            pub fn mark_stale() -> f64 {
                let c: Cache<u64, u64, u64> = Cache::new(2 * N as usize);
                for k in 0..N {
                    c.insert(k, k, [k / 10]);
                }
                let deps = N / 10;
                let t = Instant::now();
                for d in 0..deps {
                    c.mark_stale(d);
                }
                t.elapsed().as_nanos() as f64 / deps as f64
            }
        }
    };
}
suite!(a, base);
suite!(b, new);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(7);
    let measures: [(&str, fn() -> f64, fn() -> f64); 6] = [
        ("get hit", a::get, b::get),
        ("insert, own dependency", a::insert_own_dep, b::insert_own_dep),
        ("insert, shared dependency", a::insert_shared_dep, b::insert_shared_dep),
        ("insert, no dependency", a::insert_no_dep, b::insert_no_dep),
        ("invalidate (10 dependents, 1e5)", a::invalidate, b::invalidate),
        ("mark_stale (1e5)", a::mark_stale, b::mark_stale),
    ];
    println!("| measure | base ns | HEAD ns | HEAD / base |");
    println!("|---|---:|---:|---:|");
    for (name, fa, fb) in measures {
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            if r % 2 == 0 {
                va.push(fa());
                vb.push(fb());
            } else {
                vb.push(fb());
                va.push(fa());
            }
        }
        let (ma, mb) = (median(va), median(vb));
        println!("| {name} | {ma:.1} | {mb:.1} | {:.3} |", mb / ma);
    }
}
