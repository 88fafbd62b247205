//! A headless browser for `cargo xtask demo`: follows a sign-in URL through oidc-provider's
//! pages as USER (its development login accepts any name) and prints the page the redirect
//! ends on.
#![allow(clippy::print_stdout)] // the page is the output

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(user)) = (args.next(), args.next()) else {
        return Err("usage: oidc-browser URL USER".into());
    };
    let page = ccc_tests::oidc::drive(&url, &user, "x", None).await?;
    println!("{}", page.trim());
    Ok(())
}
