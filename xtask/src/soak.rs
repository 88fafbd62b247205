//! `cargo xtask soak [--minutes N] [--seed S]`: the peers, then the soak harness
//! (`tests/src/bin/soak.rs`: 16 processes of credential traffic under a seeded chaos schedule),
//! then the verdict: the harness's figures, the secret-leak scan of every log, and each
//! property the run must show, in `target/soak/report.md` and `report.json`.

use std::fmt::Write as _;

use serde_json::Value;

pub fn run(args: &[String]) -> Result<(), String> {
    let value = |name: &str, default: &str| -> String {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.into())
    };
    let minutes = value("--minutes", "10");
    let seed = value("--seed", "1");
    minutes.parse::<f64>().ok().filter(|m| *m > 0.0).ok_or("--minutes takes a positive number")?;
    seed.parse::<u64>().map_err(|_| "--seed takes a whole number")?;

    cmd::build_everything()?;
    let (env, started) = crate::peers::up()?;
    let result = soak(&env, &minutes, &seed);
    let down = if started { crate::peers::down() } else { Ok(()) };
    result.and(down)
}

use crate::cmd;

fn soak(env: &[(String, String)], minutes: &str, seed: &str) -> Result<(), String> {
    let root = cmd::root();
    let out = root.join("target/soak");
    let ccc = root.join("target/debug/ccc").display().to_string();
    let args: Vec<String> = ["run", "--minutes", minutes, "--seed", seed, "--ccc", &ccc, "--out"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([out.display().to_string()])
        .collect();
    cmd::run_with_env(&root.join("target/debug/soak").display().to_string(), &args, env)?;
    let text = std::fs::read_to_string(out.join("report.json")).map_err(|e| format!("no soak report: {e}"))?;
    let mut report: Value = serde_json::from_str(&text).map_err(|e| format!("the soak report does not parse: {e}"))?;
    let leaks = crate::leak::scan(&out.join("leak"));
    report["leak_scan"] = Value::String(match &leaks {
        Ok(s) => s.clone(),
        Err(e) => e.clone(),
    });
    let verdict = verdict(&report, leaks.is_ok());
    report["verdict"] =
        verdict.iter().map(|(name, ok, why)| serde_json::json!({"check": name, "ok": ok, "why": why})).collect();
    let pretty = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.json"), pretty).map_err(|e| e.to_string())?;
    let md = markdown(&report, &verdict);
    std::fs::write(out.join("report.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    let failed: Vec<&str> = verdict.iter().filter(|(_, ok, _)| !ok).map(|(n, _, _)| n.as_str()).collect();
    if failed.is_empty() { Ok(()) } else { Err(format!("soak failed: {}", failed.join(", "))) }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// Each property the run must show: (name, held, the figures behind it).
fn verdict(r: &Value, no_leaks: bool) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    let kills = num(&r["chaos"]["kills"]);
    for source in ["cognito", "sts", "oauth"] {
        let s = &r["upstream"][source];
        let (refreshes, lifetimes) = (num(&s["refreshes"]), num(&s["lifetimes_crossed"]));
        // one refresh per lifetime crossed; a process killed after the provider answered
        // makes the next one refresh again (at most one more per kill)
        let allowed = lifetimes.ceil() + 1.0 + kills;
        out.push((
            format!("{source}: refreshes follow lifetimes, not processes"),
            // a refresh delayed by the chaos moves the next one later: fewer is fine, but a
            // run that crossed two lifetimes must have refreshed
            refreshes <= allowed && (refreshes >= 1.0 || lifetimes < 2.0),
            format!("{refreshes} refreshes for {lifetimes:.1} lifetimes crossed ({kills} kills; at most {allowed})"),
        ));
    }
    let o = &r["upstream"]["oauth"];
    out.push((
        "oauth: the rotating refresh-token family is never revoked".into(),
        o["family_alive"].as_bool() == Some(true) && num(&o["refused"]) == 0.0,
        format!("a token after the run accepted: {}; refused refresh grants: {}", o["family_alive"], o["refused"]),
    ));
    out.push((
        "0 hangs: every call ended within its budget".into(),
        num(&r["hangs"]) == 0.0 && r["stuck_workers"].as_array().is_none_or(Vec::is_empty),
        format!("{} over budget, stuck workers {}", r["hangs"], r["stuck_workers"]),
    ));
    let list = |k: &str| r[k].as_array().map(Vec::len).unwrap_or(0);
    out.push((
        "0 crashed workers (a worker's own failure, not a kill)".into(),
        list("crashed_workers") == 0,
        format!("{} crashed", list("crashed_workers")),
    ));
    out.push((
        "every answer valid, unexpired, never going back in time".into(),
        list("violations") == 0,
        format!("{} violations", list("violations")),
    ));
    let verified = r["judge"]["verified"].as_u64().unwrap_or(0);
    let refused = r["judge"]["refused"].as_array().map_or(0, Vec::len);
    out.push((
        "every credential handed out is one AWS accepts (0 signed with an expired or unknown one)".into(),
        refused == 0 && verified > 0,
        format!(
            "{verified} GetCallerIdentity calls signed with handed-out credentials verified by the front before moto with authentication on; {refused} refused"
        ),
    ));
    out.push((
        "0 corrupt files (botocore parses the AWS files, every cache entry parses)".into(),
        list("corrupt_files") == 0,
        format!("{} corrupt", list("corrupt_files")),
    ));
    out.push((
        "file modes 0600 / 0700 throughout".into(),
        list("mode_violations") == 0,
        format!("{} files with wider modes", list("mode_violations")),
    ));
    out.push(("0 leaked secrets in any log".into(), no_leaks, r["leak_scan"].as_str().unwrap_or("").to_owned()));
    out
}

fn markdown(r: &Value, verdict: &[(String, bool, String)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Soak report\n\nSeed {}, {:.1} min, {} processes sharing one HOME; {} calls ({:.1}/s); {} chaos events ({} kills).\n",
        r["seed"],
        num(&r["elapsed_s"]) / 60.0,
        r["workers"],
        r["calls"],
        num(&r["throughput_per_s"]),
        r["chaos"]["events"],
        r["chaos"]["kills"]
    );
    let _ = writeln!(s, "| check | held | figures |\n|---|---|---|");
    for (name, ok, why) in verdict {
        let _ = writeln!(s, "| {name} | {} | {why} |", if *ok { "yes" } else { "**NO**" });
    }
    let _ = writeln!(s, "\n| caller | calls | ok | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|");
    if let Some(actions) = r["actions"].as_object() {
        for (name, a) in actions {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {} |",
                a["calls"], a["ok"], a["p50_ms"], a["p99_ms"], a["max_ms"]
            );
        }
        for (name, a) in actions {
            if let Some(errors) = a["errors"].as_object().filter(|e| !e.is_empty()) {
                let _ = writeln!(s, "\nErrors of `{name}` (allowed under chaos; each ended within its budget):\n");
                let mut errors: Vec<_> = errors.iter().collect();
                errors.sort_by_key(|(_, n)| std::cmp::Reverse(n.as_u64().unwrap_or(0)));
                for (e, n) in errors.iter().take(8) {
                    let _ = writeln!(s, "- {n}× {e}");
                }
            }
        }
    }
    // the warm path under the soak next to the quiet figure of the last bench run
    let creds = &r["actions"]["ccc creds"];
    let quiet = std::fs::read_to_string(cmd::root().join("target/bench/report.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|b| {
            let build = if b["quick"].as_bool() == Some(true) { " --quick, debug build" } else { ", optimised build" };
            let rows = b["rows"].as_array()?;
            let warm = rows.iter().find(|row| row["what"].as_str().is_some_and(|w| w.contains("warm")))?;
            Some(format!(
                "{} (`cargo xtask bench`{build}, one process at a time)",
                warm["time"].as_str().unwrap_or("?")
            ))
        })
        .unwrap_or_else(|| "not measured (run `cargo xtask bench`)".into());
    let _ = writeln!(
        s,
        "\nWarm path under the soak (`ccc creds`, debug build, 16 processes on this machine): p50 {} ms, p99 {} ms; quiet: {quiet}.",
        creds["p50_ms"], creds["p99_ms"]
    );
    let _ = writeln!(s, "\nSlowest calls, with the chaos events around them:\n");
    for c in r["slowest"].as_array().into_iter().flatten() {
        let chaos: Vec<&str> = c["chaos"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let around = if chaos.is_empty() { String::new() } else { format!("; around it: {}", chaos.join("; ")) };
        let _ = writeln!(
            s,
            "- {} ms `{}` (worker {}) {}{around}",
            c["ms"],
            c["action"].as_str().unwrap_or("?"),
            c["worker"],
            c["error"].as_str().unwrap_or("ok")
        );
    }
    for key in ["violations", "corrupt_files", "mode_violations", "crashed_workers"] {
        for v in r[key].as_array().into_iter().flatten().take(20) {
            let _ = writeln!(s, "- {key}: {}", v.as_str().unwrap_or("?"));
        }
    }
    s
}
