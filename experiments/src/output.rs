//! Writing result files so that an interrupted run never leaves a half-written file: write
//! to a temporary file beside the target, flush, then rename over it.
//!
//! A failure is one line naming what was being written and where, e.g. "cannot write the
//! SVG diagram to /proc/x.svg: No such file or directory (os error 2)".

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::Result;

/// Writes `path` atomically; `what` names the file's content for error messages ("the
/// trace", "the study's CSV").
pub fn write_atomically(
    path: &Path,
    what: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let fail = |e: String| format!("cannot write {what} to {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    let file_name =
        path.file_name().ok_or_else(|| fail("not a file path (it has no file name)".into()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", file_name.to_string_lossy()));
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        write(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e.to_string()).into()
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(fail(e.to_string()).into())
        }
    }
}
