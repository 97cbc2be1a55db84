//! CSV result files: one header, one row per record, written to a temporary file and renamed
//! so that an interrupted study never leaves a truncated CSV. Numbers are formatted by the
//! caller with fixed decimals, so equal results give byte-identical files.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::output::write_atomically;

pub fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    // Serialise in memory first: a serialisation error must not leave a file behind either.
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    let bytes = w.into_inner().map_err(|e| format!("csv: {e}"))?;
    write_atomically(path, "the CSV results", |f| std::io::Write::write_all(f, &bytes))
}
