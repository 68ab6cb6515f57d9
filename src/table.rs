//! The read-model table as `template.yaml` defines it: the one source of truth for its keys,
//! indexes and TTL. `casesctl table create` builds the table from this, and a test compares
//! what DynamoDB Local reports against it.

use serde::Deserialize;

/// `template.yaml`, compiled in so `casesctl` needs no file at run time.
pub const TEMPLATE: &str = include_str!("../template.yaml");
/// Logical id of the table resource in the template.
pub const TABLE_RESOURCE: &str = "ReadModelTable";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub billing_mode: String,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub time_to_live_specification: Option<TimeToLive>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(String),
    #[error("template.yaml has no resource `{TABLE_RESOURCE}` with Properties")]
    NoTable,
    #[error("template.yaml `{TABLE_RESOURCE}` properties: {0}")]
    Properties(String),
}

impl TableDefinition {
    /// The table defined in the compiled-in `template.yaml`.
    /// Point-in-time recovery, as the template's table has it (`casesctl table create` turns it
    /// on too).
    pub fn point_in_time_recovery() -> bool {
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(TEMPLATE)
            .ok()
            .and_then(|doc| {
                doc["Resources"][TABLE_RESOURCE]["Properties"]["PointInTimeRecoverySpecification"]
                    ["PointInTimeRecoveryEnabled"]
                    .as_bool()
            })
            .unwrap_or(false)
    }

    pub fn from_template() -> Result<Self, TemplateError> {
        Self::parse(TEMPLATE)
    }

    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let doc: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(template).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        let properties = doc
            .get("Resources")
            .and_then(|r| r.get(TABLE_RESOURCE))
            .and_then(|t| t.get("Properties"))
            .ok_or(TemplateError::NoTable)?
            .clone();
        let mut def: TableDefinition = serde_yaml_ng::from_value(properties)
            .map_err(|e| TemplateError::Properties(e.to_string()))?;
        def.normalise();
        Ok(def)
    }

    /// Orders what DynamoDB does not order, so two definitions compare by content.
    pub fn normalise(&mut self) {
        self.attribute_definitions.sort();
        self.global_secondary_indexes
            .sort_by(|a, b| a.index_name.cmp(&b.index_name));
        for gsi in &mut self.global_secondary_indexes {
            gsi.projection.non_key_attributes.sort();
        }
    }

    pub fn ttl_attribute(&self) -> Option<&str> {
        self.time_to_live_specification
            .as_ref()
            .filter(|t| t.enabled)
            .map(|t| t.attribute_name.as_str())
    }

    pub fn index(&self, name: &str) -> Option<&GlobalSecondaryIndex> {
        self.global_secondary_indexes
            .iter()
            .find(|g| g.index_name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_defines_the_documented_table() {
        let def = TableDefinition::from_template().unwrap();
        assert_eq!(def.billing_mode, "PAY_PER_REQUEST");
        let keys: Vec<_> = def
            .key_schema
            .iter()
            .map(|k| (k.attribute_name.as_str(), k.key_type.as_str()))
            .collect();
        assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")]);
        assert_eq!(def.ttl_attribute(), Some("expiresAt"));
        let by_status = def.index("byStatus").unwrap();
        assert_eq!(by_status.key_schema[0].attribute_name, "statusKey");
        assert_eq!(by_status.key_schema[1].attribute_name, "updatedAt");
        let by_template = def.index("byTemplate").unwrap();
        assert_eq!(by_template.key_schema[0].attribute_name, "templateKey");
        assert_eq!(by_template.key_schema[1].attribute_name, "createdAt");
        let by_deferred = def.index("byDeferred").unwrap();
        assert_eq!(by_deferred.key_schema[0].attribute_name, "deferredKey");
        assert_eq!(by_deferred.key_schema[1].attribute_name, "deferredSince");
    }
}
