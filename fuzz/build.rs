//! The shell classifier (`depcache::tool::shell`) is newer than the other
//! surfaces: the `shell` target and its tests build only where the checkout
//! has it (`cfg(depcache_shell)`), so the other targets never wait for it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(depcache_shell)");
    println!("cargo::rerun-if-changed=../src/tool/mod.rs");
    let has_shell = std::fs::read_to_string("../src/tool/mod.rs").is_ok_and(|s| s.contains("pub mod shell;"));
    if has_shell {
        println!("cargo::rustc-cfg=depcache_shell");
    }
}
