//! The browser's side of an upload: S3 is sent the bytes with XMLHttpRequest, whose upload
//! progress events drive the progress bar (fetch has none).

use super::*;
use leptos::wasm_bindgen::{JsCast, JsValue, closure::Closure};
use leptos::web_sys::{Blob, File, FormData, ProgressEvent, XmlHttpRequest};

enum Body {
    Form(FormData),
    Blob(Blob),
}

fn js_error(error: JsValue) -> String {
    error.as_string().unwrap_or_else(|| "the browser refused the upload".to_owned())
}

/// S3's `<Message>` from an error document, or the status.
fn s3_message(status: u16, text: &str) -> String {
    let message = text.split_once("<Message>").and_then(|(_, rest)| rest.split_once("</Message>")).map(|(m, _)| m.to_owned());
    format!("S3 refused the upload ({status}){}", message.map(|m| format!(": {m}")).unwrap_or_default())
}

/// Sends one request and waits for its end: the status, ETag and body.
async fn send(method: &str, url: &str, body: Body, on_progress: impl Fn(f64) + 'static) -> Result<(u16, Option<String>, String), String> {
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open_with_async(method, url, true).map_err(js_error)?;
    let (done, finished) = futures::channel::oneshot::channel::<bool>();
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let finish = |loaded: bool| {
        let done = done.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(done) = done.borrow_mut().take() {
                let _ = done.send(loaded);
            }
        })
    };
    let (on_load, on_error) = (finish(true), finish(false));
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| on_progress(event.loaded()));
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    match &body {
        Body::Form(form) => xhr.send_with_opt_form_data(Some(form)),
        Body::Blob(blob) => xhr.send_with_opt_blob(Some(blob)),
    }
    .map_err(js_error)?;
    let loaded = finished.await.unwrap_or(false);
    // The callbacks live until the request has ended.
    drop((on_load, on_error, on_progress));
    if !loaded {
        return Err("The upload did not reach S3 (the network failed, or S3 refused the browser).".into());
    }
    let status = xhr.status().map_err(js_error)?;
    let etag = xhr.get_response_header("ETag").ok().flatten();
    Ok((status, etag, xhr.response_text().ok().flatten().unwrap_or_default()))
}

pub async fn upload(shelf: Shelf, path: String, file: File, percent: ArcRwSignal<f64>) -> Result<(), String> {
    let size = file.size();
    let ticket = shelf.ticket(path, size as u64, file.type_()).await.map_err(|e| e.to_string())?;
    match ticket {
        UploadTicket::Post { url, fields } => {
            let form = FormData::new().map_err(js_error)?;
            for (name, value) in &fields {
                form.append_with_str(name, value).map_err(js_error)?;
            }
            form.append_with_blob_and_filename("file", &file, &file.name()).map_err(js_error)?;
            let progress = percent.clone();
            let (status, _, text) =
                send("POST", &url, Body::Form(form), move |loaded| progress.set(loaded * 100.0 / size.max(1.0))).await?;
            if !(200..300).contains(&status) {
                return Err(s3_message(status, &text));
            }
        }
        UploadTicket::Multipart { path, upload_id, part_size, part_urls } => {
            let mut etags = Vec::with_capacity(part_urls.len());
            for (index, url) in part_urls.iter().enumerate() {
                let start = index as f64 * part_size as f64;
                let blob = file.slice_with_f64_and_f64(start, (start + part_size as f64).min(size)).map_err(js_error)?;
                let part_percent = percent.clone();
                let progress = move |loaded: f64| part_percent.set((start + loaded) * 100.0 / size.max(1.0));
                let (status, etag, text) = send("PUT", url, Body::Blob(blob), progress).await?;
                if !(200..300).contains(&status) {
                    return Err(s3_message(status, &text));
                }
                etags.push(etag.ok_or("S3 did not say which part it stored (no ETag): its CORS rules must expose ETag.")?);
            }
            shelf.complete(path, upload_id, etags).await.map_err(|e| e.to_string())?;
        }
    }
    percent.set(100.0);
    Ok(())
}
