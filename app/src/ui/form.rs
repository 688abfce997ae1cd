//! What every form shares: its Tailwind classes, a field's error, the problems a refused post
//! came back with, and (on the server) the way a refused post without JavaScript goes back to
//! its form with everything typed still in place.
use crate::error::{AppError, FieldProblem};
use leptos::prelude::*;

pub const INPUT: &str = "mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800";
pub const TEXTAREA: &str = "mt-1 w-full rounded-lg border border-slate-300 px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-800";
pub const LABEL: &str = "block text-sm font-medium";
/// A label in a compact form (a row of fields in a card).
pub const LABEL_SMALL: &str = "block text-xs font-medium text-slate-600 dark:text-slate-400";
pub const HINT: &str = "mt-1 text-xs text-slate-500 dark:text-slate-400";
pub const BUTTON: &str = "h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
pub const ERROR: &str = "mt-1 text-sm text-rose-700 dark:text-rose-300";

impl AppError {
    /// The error as a form shows it: each field's problem under its field; an error that names
    /// no field under the form as a whole (`form`).
    pub fn problems(&self) -> Vec<FieldProblem> {
        match self {
            AppError::InvalidFields(list) => list.clone(),
            AppError::Invalid { field, message } => vec![FieldProblem { field: field.clone(), message: message.clone() }],
            other => vec![FieldProblem { field: "form".into(), message: other.to_string() }],
        }
    }
}

/// The problems a refused post without JavaScript left in its form's address (`errors`).
pub fn returned_problems(q: &leptos_router::params::ParamsMap) -> Vec<FieldProblem> {
    q.get("errors").and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_default()
}

/// The first problem of `field` among `problems`.
pub fn problem_of(field: &'static str, problems: RwSignal<Vec<FieldProblem>>) -> Signal<Option<String>> {
    Signal::derive(move || problems.with(|list| list.iter().find(|p| p.field == field).map(|p| p.message.clone())))
}

/// The first problem of `field` among `problems`, shown on its own (`error-<field>`): for the
/// problems that belong to no one field (`form`) or to a hidden one.
#[component]
pub fn FieldError(field: &'static str, problems: RwSignal<Vec<FieldProblem>>) -> impl IntoView {
    view! { <ErrorLine field error=problem_of(field, problems)/> }
}

#[component]
fn ErrorLine(field: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|m| view! { <p class=ERROR role="alert" data-testid=format!("error-{field}")>{crate::error::sentence(&m)}</p> })
}

/// A labelled field around its control (the children: an input, a select or a textarea with
/// the same `id`): the label, "(required)" when it is, a hint, and the field's error
/// (`error-<field>`), which names the field the server's problems use.
#[component]
pub fn Field(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class=LABEL>{label}{required.then_some(" (required)")}</label>
            {children()}
            {(!hint.is_empty()).then(|| view! { <p class=HINT>{hint}</p> })}
            <ErrorLine field error/>
        </div>
    }
}

/// A form's submit button.
#[component]
pub fn Submit(#[prop(into)] label: String, #[prop(optional, into)] disabled: Signal<bool>) -> impl IntoView {
    view! { <button type="submit" class=BUTTON disabled=disabled>{label}</button> }
}

/// Answers a refused form post: with JavaScript, the error as it is (the form never left the
/// page); without it, a redirect back to the form at `path` with what was typed and the
/// problems in the address, so nothing typed is lost. Secrets never go there: a field that
/// must not travel in an address is kept in the session instead (`context::flash_put`).
#[cfg(feature = "ssr")]
pub fn send_back(path: &str, typed: &[(&str, &str)], error: AppError) -> AppError {
    if !crate::context::accepts_html() {
        return crate::context::respond(error);
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in typed.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    q.append_pair("errors", &serde_json::to_string(&error.problems()).unwrap_or_default());
    // a redirect (not the error's status), so the browser shows the form again
    leptos_axum::redirect(&format!("{path}?{}", q.finish()));
    error
}
