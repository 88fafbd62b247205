//! The verifying front (`ccc_tests::judge`) as a process, for `cargo xtask demo`: in front of
//! the strict moto (and the Cognito peer), it judges every credential the demo uses. Prints
//! its URL on the first line of stdout, serves until stdin closes, then prints on stderr how
//! many requests it verified and refused.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the URL and the count are the output

use std::io::BufRead;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let judge = ccc_tests::judge::Judge::start().await;
    println!("{}", judge.url);
    // serve until the demo closes our stdin (or goes away)
    let _ = tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {}).await;
    eprintln!(
        "judge: {} request(s) with minted credentials verified, refused: {:?}",
        judge.accepted(),
        judge.refused()
    );
}
