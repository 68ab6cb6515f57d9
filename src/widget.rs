//! The case-metrics widget Lambda (`src/bin/widget.rs`): a CloudWatch custom widget call →
//! one panel's HTML. Reads the read model only (the range's day aggregates, the current-cases
//! aggregate, the codes and the names: Query, and GetItem for the regroup checkpoint), through
//! [`crate::analytics::source`], and draws with [`crate::dashboard`]. Whatever goes wrong, the
//! viewer gets a readable message, never a stack trace; nothing of a case is logged.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::analytics::model::Interval;
use crate::analytics::source::{self, Note};
use crate::config::{Config, ConfigError};
use crate::dashboard::format::escape;
use crate::dashboard::widget::{self, Invocation, Request, WidgetError};
use crate::dashboard::{self, Data, Panel, STYLE};
use crate::projection::contribution::STATUS_GROUP;
use crate::store::{PlanExecutor, StoreError};

/// The widget function's settings, read once at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `TABLE_NAME`, `REPORT_DIMENSIONS` (the groupings offered), `STORE_TIMEOUT_MS`, ...
    pub config: Config,
    /// `CASES_DOMAIN_ID` (required): the domain whose metrics are shown.
    pub domain_id: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Config::from_lookup(&lookup)?;
        let domain_id = crate::config::domain_id(
            &lookup,
            "name the Cases domain whose metrics the widget shows",
        )?;
        Ok(Settings { config, domain_id })
    }
}

/// A message in the widget, instead of a panel.
pub fn message_html(text: &str) -> String {
    format!(
        "<style>{STYLE}</style><div class=\"cm\"><p class=\"message\">{}</p></div>",
        escape(text)
    )
}

/// The answer to one widget call: the panel's HTML (a JSON string), or `{"markdown": ...}`
/// for `describe`.
pub async fn answer(
    store: &impl PlanExecutor,
    settings: &Settings,
    event: &Value,
    now: DateTime<Utc>,
) -> Value {
    let dimensions = &settings.config.report_dimensions;
    let invocation: Invocation = match serde_json::from_value(event.clone()) {
        Ok(i) => i,
        Err(_) => {
            return Value::String(message_html(
                "This call is not a CloudWatch custom-widget invocation (an object with widgetContext and the widget's params).",
            ));
        }
    };
    if invocation.describe {
        return json!({ "markdown": widget::describe(dimensions) });
    }
    let request = match widget::request(&invocation, dimensions) {
        Ok(r) => r,
        Err(e) => return Value::String(message_html(&e.to_string())),
    };
    match panel(store, settings, &request, now).await {
        Ok(html) => Value::String(html),
        Err(e) => {
            tracing::error!(error = %e, "widget could not read the read model");
            Value::String(message_html(&WidgetError::Store(e.to_string()).to_string()))
        }
    }
}

/// The grouping fields whose names a panel shows.
fn named_fields(panel: &Panel) -> Vec<&str> {
    match panel {
        Panel::Status => vec![STATUS_GROUP],
        Panel::Breakdown { by } => vec![by.as_str()],
        _ => Vec::new(),
    }
}

async fn panel(
    store: &impl PlanExecutor,
    settings: &Settings,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let domain = settings.domain_id.as_str();
    let aggregates = source::aggregates(store, domain, request.from, request.to).await?;
    if let Some(none) = aggregates
        .notes
        .iter()
        .find(|n| matches!(n, Note::NoCases { .. }))
    {
        return Ok(message_html(&format!(
            "No case metrics yet: {none}. The projector fills them as Cases events arrive."
        )));
    }
    let names = source::names(store, domain, &named_fields(&request.panel)).await?;
    let total = aggregates.report(Interval::Total, None, &names, now);
    let series = match request.panel {
        Panel::Volume | Panel::Resolution | Panel::FirstContact => {
            aggregates.report(request.interval, None, &names, now)
        }
        _ => total.clone(),
    };
    let breakdowns: Vec<_> = match &request.panel {
        Panel::Breakdown { by } => vec![aggregates.report(Interval::Total, Some(by), &names, now)],
        _ => Vec::new(),
    };
    let data = Data {
        total: &total,
        series: &series,
        breakdowns: &breakdowns,
        names: &names,
        notes: &aggregates.notes,
        top: request.top,
    };
    // Room for the footer line.
    let size = dashboard::Size {
        width: request.size.width - 16.0,
        height: request.size.height - 40.0,
    };
    Ok(format!(
        "<style>{STYLE}</style><div class=\"cm\" data-panel=\"{}\">{}{}</div>",
        widget_name(&request.panel),
        dashboard::panel(&request.panel, &data, size),
        dashboard::footer(&total, &aggregates.notes, request.timezone_note.as_deref())
    ))
}

fn widget_name(panel: &Panel) -> &'static str {
    match panel {
        Panel::Kpis => "kpis",
        Panel::Volume => "volume",
        Panel::Status => "status",
        Panel::Resolution => "resolution",
        Panel::FirstContact => "fcr",
        Panel::Breakdown { .. } => "breakdown",
        Panel::Activity => "activity",
    }
}
