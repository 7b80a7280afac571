//! `/api/docs`: the API's reference, rendered in the browser by Swagger UI (npm
//! `swagger-ui-dist`, pinned in package.json and served from this site) from
//! `/api/v1/openapi.json`.

use axum::response::Html;

pub async fn api_docs() -> Html<&'static str> {
    Html(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Atrium</title>
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
<style>
  body { margin: 0; font-family: system-ui, sans-serif; color: #0f172a; }
  .atrium-bar { display: flex; gap: 1rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid #e2e8f0; }
  .atrium-bar a { color: #4338ca; }
  /* Swagger UI's colours, darkened to WCAG AA contrast. */
  .swagger-ui .opblock-get .opblock-summary-method { background: #1d4ed8 !important; }
  .swagger-ui .opblock-post .opblock-summary-method { background: #047857 !important; }
  .swagger-ui .opblock-put .opblock-summary-method { background: #b45309 !important; }
  .swagger-ui .opblock-delete .opblock-summary-method { background: #b91c1c !important; }
  .swagger-ui .version-stamp, .swagger-ui .version-stamp pre { background: #3f6212 !important; }
  .swagger-ui .info .url, .swagger-ui .info a, .swagger-ui .info__license__url a { color: #1d4ed8 !important; }
  .swagger-ui .btn.authorize, .swagger-ui .btn.authorize span { color: #047857 !important; border-color: #047857 !important; }
  .swagger-ui .btn.authorize svg { fill: #047857 !important; }
</style>
</head>
<body>
<header class="atrium-bar"><a href="/">Atrium</a><span>API reference</span>
<a href="/settings/tokens">Your API tokens</a><a href="/api/v1/openapi.json">OpenAPI document (JSON)</a></header>
<main id="reference"><h1>Atrium API</h1><p>Loading the reference…</p></main>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/api-docs.js"></script>
</body>
</html>"#,
    )
}
