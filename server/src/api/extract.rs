//! axum's extractors with the API's JSON errors instead of plain-text rejections.

use crate::http::api_error::ApiError;
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

/// A JSON body; malformed JSON, wrong types and unknown fields are 400/422 with a message.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A raw body (a YAML file), with the API's errors for one too large.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(request, state).await.map(Body).map_err(ApiError::from)
    }
}
