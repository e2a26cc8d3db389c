//! The Tint check: every WGSL module of the crate, each variant ([`tweedie::gpu::shader_modules`]),
//! compiled by Chromium's WebGPU (Dawn, whose compiler is Tint, not naga) and a compute pipeline
//! created for every entry point. Serves `web/tint-check.html` and the modules on 127.0.0.1, runs
//! headless Chromium on it (WebGPU on SwiftShader), and takes the page's result from a POST.
//!
//! ```text
//! cargo run --release --example tint_check             # exit 1 on any compile or pipeline error
//! cargo run --release --example tint_check -- --control  # without WebGPU flags: must find no adapter
//! cargo run --release --example tint_check -- --selftest # a module Tint must refuse: must fail it
//! ```
//!
//! `CHROMIUM` names the browser binary (default `chromium`); `--timeout S` bounds the run (600 s).
//! Needs `apt-get install chromium`; `.ci/run` runs both forms.

use std::error::Error;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn Error>> {
    let mut control = false;
    let mut selftest = false;
    let mut timeout = 600u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--control" => control = true,
            "--selftest" => selftest = true,
            "--timeout" => timeout = args.next().ok_or("--timeout needs seconds")?.parse()?,
            other => {
                return Err(format!("unknown argument {other} (--control, --selftest, --timeout S)").into());
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read(root.join("web/tint-check.html"))?;
    let mut modules = tweedie::gpu::shader_modules()?;
    if selftest {
        // the first real module, and one that assigns a u32 to an f32 (a type error for any compiler):
        // the check must report exactly the second
        modules.truncate(1);
        modules.push(tweedie::gpu::ShaderModuleInfo {
            file: "selftest_broken.wgsl".into(),
            source: "@compute @workgroup_size(1) fn broken() { let x: f32 = 1u; }".into(),
            entry_points: vec!["broken".into()],
            needs_subgroups: false,
        });
    }
    let entries: usize = modules.iter().map(|m| m.entry_points.len()).sum();
    let json = serde_json::Value::Array(
        modules
            .iter()
            .map(|m| {
                serde_json::json!({
                    "file": m.file,
                    "source": m.source,
                    "entry_points": m.entry_points,
                    "needs_subgroups": m.needs_subgroups,
                })
            })
            .collect(),
    )
    .to_string();

    let server =
        tiny_http::Server::http("127.0.0.1:0").map_err(|e| format!("cannot serve on 127.0.0.1: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?
        .port();
    let profile = std::env::temp_dir().join(format!("tweedie-tint-{}", std::process::id()));
    let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let mut cmd = Command::new(&browser);
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--no-first-run",
        &format!("--user-data-dir={}", profile.display()),
    ]);
    if !control {
        cmd.args([
            "--enable-unsafe-webgpu",
            "--enable-features=Vulkan",
            "--use-webgpu-adapter=swiftshader",
            "--enable-unsafe-swiftshader",
        ]);
    }
    cmd.arg(format!("http://127.0.0.1:{port}/"));
    let log_path = std::env::temp_dir().join("tweedie-tint-chromium.log");
    cmd.stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path)?);
    let mut child = cmd.spawn().map_err(|e| {
        format!("cannot start {browser} ({e}): install Chromium (apt-get install chromium) or set CHROMIUM")
    })?;
    println!(
        "{} {} modules, {entries} entry points, in {browser} (log: {})",
        if control {
            "control run (no WebGPU flags):"
        } else {
            "compiling"
        },
        modules.len(),
        log_path.display()
    );

    let start = Instant::now();
    let mut result = None;
    while result.is_none() && start.elapsed() < Duration::from_secs(timeout) {
        if let Some(status) = child.try_wait()? {
            return Err(format!("{browser} exited early ({status}); see {}", log_path.display()).into());
        }
        let Some(mut req) = server.recv_timeout(Duration::from_millis(500))? else {
            continue;
        };
        let url = req.url().to_string();
        let response = match (req.method(), url.as_str()) {
            (tiny_http::Method::Get, "/") => tiny_http::Response::from_data(page.clone()).with_header(
                "Content-Type: text/html; charset=utf-8"
                    .parse::<tiny_http::Header>()
                    .unwrap(),
            ),
            (tiny_http::Method::Get, "/modules.json") => {
                tiny_http::Response::from_data(json.clone().into_bytes()).with_header(
                    "Content-Type: application/json"
                        .parse::<tiny_http::Header>()
                        .unwrap(),
                )
            }
            (tiny_http::Method::Post, "/result") => {
                let mut body = String::new();
                req.as_reader().read_to_string(&mut body)?;
                result = Some(body);
                tiny_http::Response::from_data(b"ok".to_vec())
            }
            _ => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
        };
        req.respond(response).ok();
    }
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&profile).ok();
    let Some(result) = result else {
        return Err(format!(
            "no result from the page within {timeout} s; see {}",
            log_path.display()
        )
        .into());
    };
    let r: serde_json::Value = serde_json::from_str(&result)?;
    let done = r["done"].as_str().unwrap_or("?");
    let secs = start.elapsed().as_secs_f64();
    if control {
        if r["adapter"].is_null() && done.contains("no WebGPU") {
            println!(
                "control: the page found no WebGPU without the flags ({done}), as it should ({secs:.1} s)"
            );
            return Ok(());
        }
        return Err(format!("control: the page found WebGPU without the flags: {result}").into());
    }
    let errors = r["errors"].as_array().cloned().unwrap_or_default();
    if selftest {
        let caught = errors.len() == 1 && errors[0]["module"] == "selftest_broken.wgsl";
        if caught && r["modules"] == 1 {
            println!("selftest: the broken module was refused and the good one compiled ({secs:.1} s)");
            return Ok(());
        }
        return Err(format!("selftest: expected exactly the broken module to fail: {result}").into());
    }
    let skipped = r["skipped"].as_array().cloned().unwrap_or_default();
    println!(
        "adapter: {}; features: {}",
        r["adapter"].as_str().unwrap_or("none"),
        r["features"]
    );
    for e in &errors {
        println!(
            "error in {}{}: {}",
            e["module"].as_str().unwrap_or("?"),
            e["entry"].as_str().map(|s| format!("::{s}")).unwrap_or_default(),
            e["message"].as_str().unwrap_or("?")
        );
    }
    for s in &skipped {
        println!("skipped: {}", s.as_str().unwrap_or("?"));
    }
    let compiled = r["modules"].as_u64().unwrap_or(0);
    let pipelines = r["pipelines"].as_u64().unwrap_or(0);
    println!(
        "Tint: {compiled} of {} modules compiled, {pipelines} of {entries} compute pipelines created, {} errors, {} skipped ({secs:.1} s)",
        modules.len(),
        errors.len(),
        skipped.len()
    );
    if r["adapter"].is_null() {
        return Err(format!("the page found no WebGPU adapter: {done}").into());
    }
    // the plain closing line a CI log reader counts
    println!("tint: {pipelines} passed, {} failed", errors.len());
    let expected: u64 = modules
        .iter()
        .filter(|m| {
            !skipped
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.starts_with(&format!("{} ", m.file))))
        })
        .map(|m| m.entry_points.len() as u64)
        .sum();
    if !errors.is_empty() || pipelines != expected {
        return Err(format!(
            "{} errors; {pipelines} pipelines where {expected} were expected",
            errors.len()
        )
        .into());
    }
    Ok(())
}
