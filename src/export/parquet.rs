//! Rows to Parquet bytes, with the `parquet` crate's low-level column writers (no Arrow, no
//! compression codec: dictionary and plain encodings only). Pure: no I/O.

use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::ExportError;

/// A column's type, as Parquet stores it and as the Glue Data Catalog names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    /// UTC instant, milliseconds since the epoch.
    Timestamp,
}

impl Kind {
    /// The Glue (Hive) column type.
    pub fn glue(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Int => "bigint",
            Kind::Float => "double",
            Kind::Bool => "boolean",
            Kind::Timestamp => "timestamp",
        }
    }

    fn parquet(self, name: &str) -> String {
        match self {
            Kind::Text => format!("optional binary {name} (STRING);"),
            Kind::Int => format!("optional int64 {name};"),
            Kind::Float => format!("optional double {name};"),
            Kind::Bool => format!("optional boolean {name};"),
            Kind::Timestamp => format!("optional int64 {name} (TIMESTAMP(MILLIS,true));"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

/// One value of a row; `None` is SQL `NULL`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Timestamp(Option<i64>),
}

impl Cell {
    fn kind(&self) -> Kind {
        match self {
            Cell::Text(_) => Kind::Text,
            Cell::Int(_) => Kind::Int,
            Cell::Float(_) => Kind::Float,
            Cell::Bool(_) => Kind::Bool,
            Cell::Timestamp(_) => Kind::Timestamp,
        }
    }
}

fn schema(columns: &[Column]) -> String {
    let fields: Vec<String> = columns.iter().map(|c| c.kind.parquet(c.name)).collect();
    format!("message schema {{ {} }}", fields.join(" "))
}

/// Definition levels (1 = a value, 0 = `NULL`) and the values present.
fn split<T: Clone>(values: impl Iterator<Item = Option<T>>) -> (Vec<i16>, Vec<T>) {
    let mut levels = Vec::new();
    let mut present = Vec::new();
    for v in values {
        levels.push(i16::from(v.is_some()));
        present.extend(v);
    }
    (levels, present)
}

/// One Parquet file (one row group) holding `rows`, each with one cell per column of `columns`,
/// in order. A row of another shape is a bug of the caller, refused (not retryable).
pub fn write(columns: &[Column], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ExportError> {
    let bad = |e: parquet::errors::ParquetError| ExportError::Encode(e.to_string());
    for row in rows {
        let shaped = row.len() == columns.len()
            && row
                .iter()
                .zip(columns)
                .all(|(cell, c)| cell.kind() == c.kind);
        if !shaped {
            return Err(ExportError::Encode(format!(
                "a row does not fit the columns {:?}",
                columns.iter().map(|c| c.name).collect::<Vec<_>>()
            )));
        }
    }
    let schema = Arc::new(parse_message_type(&schema(columns)).map_err(bad)?);
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_created_by("cases-projector".into())
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, properties).map_err(bad)?;
    let mut group = writer.next_row_group().map_err(bad)?;
    let mut index = 0;
    while let Some(mut column) = group.next_column().map_err(bad)? {
        let cells = rows.iter().map(|r| &r[index]);
        match columns[index].kind {
            Kind::Text => {
                let (levels, values) = split(cells.map(|c| match c {
                    Cell::Text(v) => v.as_deref().map(ByteArray::from),
                    _ => unreachable!("checked above"),
                }));
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, Some(&levels), None)
                    .map_err(bad)?;
            }
            Kind::Int | Kind::Timestamp => {
                let (levels, values) = split(cells.map(|c| match c {
                    Cell::Int(v) | Cell::Timestamp(v) => *v,
                    _ => unreachable!("checked above"),
                }));
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, Some(&levels), None)
                    .map_err(bad)?;
            }
            Kind::Float => {
                let (levels, values) = split(cells.map(|c| match c {
                    Cell::Float(v) => *v,
                    _ => unreachable!("checked above"),
                }));
                column
                    .typed::<DoubleType>()
                    .write_batch(&values, Some(&levels), None)
                    .map_err(bad)?;
            }
            Kind::Bool => {
                let (levels, values) = split(cells.map(|c| match c {
                    Cell::Bool(v) => *v,
                    _ => unreachable!("checked above"),
                }));
                column
                    .typed::<BoolType>()
                    .write_batch(&values, Some(&levels), None)
                    .map_err(bad)?;
            }
        }
        column.close().map_err(bad)?;
        index += 1;
    }
    group.close().map_err(bad)?;
    writer.into_inner().map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    const COLUMNS: [Column; 5] = [
        Column {
            name: "id",
            kind: Kind::Text,
        },
        Column {
            name: "n",
            kind: Kind::Int,
        },
        Column {
            name: "x",
            kind: Kind::Float,
        },
        Column {
            name: "b",
            kind: Kind::Bool,
        },
        Column {
            name: "at",
            kind: Kind::Timestamp,
        },
    ];

    #[test]
    fn rows_read_back_with_their_nulls_and_types() {
        let rows = vec![
            vec![
                Cell::Text(Some("a".into())),
                Cell::Int(Some(7)),
                Cell::Float(Some(1.5)),
                Cell::Bool(Some(true)),
                Cell::Timestamp(Some(1_795_000_000_123)),
            ],
            vec![
                Cell::Text(None),
                Cell::Int(None),
                Cell::Float(None),
                Cell::Bool(None),
                Cell::Timestamp(None),
            ],
        ];
        let bytes = write(&COLUMNS, &rows).unwrap();
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let read: Vec<Vec<(String, Field)>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().into_columns())
            .collect();
        assert_eq!(read[0][0], ("id".into(), Field::Str("a".into())));
        assert_eq!(read[0][1], ("n".into(), Field::Long(7)));
        assert_eq!(read[0][3], ("b".into(), Field::Bool(true)));
        assert!(matches!(
            read[0][4].1,
            Field::TimestampMillis(1_795_000_000_123)
        ));
        assert!(read[1].iter().all(|(_, f)| *f == Field::Null));
    }

    #[test]
    fn a_row_of_another_shape_is_refused_and_no_rows_is_a_file() {
        let short = vec![vec![Cell::Text(None)]];
        assert!(matches!(
            write(&COLUMNS, &short),
            Err(ExportError::Encode(_))
        ));
        let empty = write(&COLUMNS, &[]).unwrap();
        assert_eq!(&empty[..4], b"PAR1");
    }
}
