//! The build script of the members with PostgreSQL tests (`inbox`, `cli`,
//! `receiver`: `build = "../tools/no-database-cfg.rs"`). It tells those tests
//! whether a server was given: without `DATABASE_URL` they are compiled
//! `#[ignore]`d, so cargo's own summary says "ignored" instead of counting
//! them as passed. With `REQUIRE_POSTGRES=1` (CI) a missing `DATABASE_URL`
//! stops the build.

fn main() {
    println!("cargo::rerun-if-env-changed=DATABASE_URL");
    println!("cargo::rerun-if-env-changed=REQUIRE_POSTGRES");
    println!("cargo::rustc-check-cfg=cfg(no_database)");
    if std::env::var_os("DATABASE_URL").is_none_or(|url| url.is_empty()) {
        assert!(
            std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "REQUIRE_POSTGRES=1 but DATABASE_URL is not set (run scripts/postgres.sh)"
        );
        println!("cargo::rustc-cfg=no_database");
    }
}
