//! A headless user for the oidc-provider peer: follows redirects and submits its dev
//! interaction forms (login, consent, device code confirmation) over HTTP, as a browser would.

use core_types::SecretString;
use oauth_pkce::{CsrfState, OAuthClient, OAuthConfig};
use url::Url;

use crate::peer;

/// One `<form>` of a page: its action and the fields a browser would send.
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
    has_login: bool,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

fn forms(html: &str) -> Vec<Form> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<form") {
        let after = &rest[i..];
        let end = after.find("</form>").unwrap_or(after.len());
        let body = &after[..end];
        let tag_end = body.find('>').unwrap_or(body.len());
        let action = attr(&body[..tag_end], "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut has_login = false;
        let mut inputs = body;
        while let Some(j) = inputs.find("<input") {
            let t = &inputs[j..];
            let te = t.find('>').unwrap_or(t.len());
            let tag = &t[..te];
            if let Some(name) = attr(tag, "name") {
                if name == "login" {
                    has_login = true;
                } else if name != "password" {
                    fields.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
            inputs = &t[te..];
        }
        out.push(Form { action, fields, has_login });
        rest = &after[end..];
    }
    out
}

/// Signs `user` in at the provider starting from `start` (an authorization or verification
/// URL), consenting to everything. Returns the first redirect whose URL starts with
/// `stop_at`, or, without one, the final page's text.
pub async fn drive(start: &str, user: &str, password: &str, stop_at: Option<&str>) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut url = Url::parse(start).map_err(|e| e.to_string())?;
    let mut post: Option<Vec<(String, String)>> = None;
    for _ in 0..25 {
        let req = match post.take() {
            Some(fields) => http.post(url.clone()).form(&fields),
            None => http.get(url.clone()),
        };
        let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
        if resp.status().is_redirection() {
            let loc =
                resp.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("redirect without location")?;
            let next = url.join(loc).map_err(|e| e.to_string())?;
            if stop_at.is_some_and(|s| next.as_str().starts_with(s)) {
                return Ok(next.to_string());
            }
            url = next;
            continue;
        }
        let status = resp.status();
        let body = resp.text().await.map_err(|e| e.to_string())?;
        let Some(form) = forms(&body).into_iter().next() else {
            return if status.is_success() { Ok(body) } else { Err(format!("{status} at {url}: {body}")) };
        };
        let mut fields = form.fields;
        if form.has_login {
            fields.push(("login".into(), user.into()));
            fields.push(("password".into(), password.into()));
        }
        url = url.join(&form.action).map_err(|e| e.to_string())?;
        post = Some(fields);
    }
    Err("too many steps without reaching the end of the sign-in".into())
}

/// The redirect URI registered for the public client.
pub const REDIRECT: &str = "http://127.0.0.1/callback";

/// The oidc-provider peer's issuer.
pub fn issuer() -> String {
    peer("CCC_TEST_OIDC_ISSUER")
}

/// The public client (PKCE, loopback redirect).
pub async fn public_client() -> OAuthClient {
    let config = OAuthConfig::new(issuer(), "ccc-public")
        .with_scopes(&["openid", "offline_access", "email"])
        .with_redirect_uri(REDIRECT);
    OAuthClient::discover(config).await.unwrap()
}

/// The confidential client (client secret, password grant) asking for `scopes`.
pub async fn confidential_client(scopes: &[&str]) -> OAuthClient {
    crate::leak::secret("ccc-confidential-secret");
    crate::leak::secret("alice-password");
    let config = OAuthConfig::new(issuer(), "ccc-confidential")
        .with_secret(SecretString::from("ccc-confidential-secret".to_owned()))
        .with_scopes(scopes)
        .with_redirect_uri(REDIRECT);
    OAuthClient::discover(config).await.unwrap()
}

/// How many token requests of `grant` type the provider has served (all tests together).
pub async fn token_requests(grant: &str) -> u64 {
    let counters: serde_json::Value =
        reqwest::get(format!("{}/test/counters", issuer())).await.unwrap().json().await.unwrap();
    counters.get(grant).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// Runs the browser part of a sign-in; returns (code, state) from the redirect.
pub async fn authorize(url: &url::Url, user: &str) -> (String, String) {
    let back = drive(url.as_str(), user, "any-password", Some(REDIRECT)).await.expect("headless sign-in");
    let back = url::Url::parse(&back).unwrap();
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    (q["code"].clone(), q["state"].clone())
}

/// Signs `user` in through the authorization-code flow with PKCE; returns the tokens (listed
/// for the leak scan) and the request's state (its nonce).
pub async fn code_flow(client: &OAuthClient, user: &str) -> (core_types::TokenSet, CsrfState) {
    let (url, verifier, state) = client.authorization_url().expect("authorization URL");
    let (code, returned) = authorize(&url, user).await;
    let tokens = client.exchange_code(&code, verifier, &returned, &state).await.expect("code exchange");
    crate::leak::tokens(&tokens);
    (tokens, state)
}
