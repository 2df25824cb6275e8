//! CSV bar loading through polars.
//!
//! The header is read first to find the bar columns. The rest of the file is read in blocks
//! of about 8 MiB, cut at record boundaries; polars parses each block (header
//! prepended) with the prices as `Float64` and the timestamp as a plain string, parsed
//! afterwards by [`crate::timestamp`] (several times faster than polars' own date
//! inference). Blocks keep peak memory near the size of the output itself.
//!
//! If polars rejects a value in a block, the block is re-read with every bar column as text
//! so the error can name the exact row, column and value.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::{Column, CsvReadOptions, DataFrame, DataType, PolarsResult, SerReader};
use tickline_engine::domain::BarSeries;

use crate::LoadOptions;
use crate::columns::Layout;
use crate::error::DataError;
use crate::frame::{Assembler, Bars};

/// Longest header line accepted (bytes).
const MAX_HEADER: u64 = 64 * 1024;
/// Target size of one parsed block (bytes).
const BLOCK: usize = 8 << 20;

/// Load a CSV file of bars: one series per symbol (see the crate docs for the columns and
/// timestamp formats). Every series is validated.
pub fn load_csv(path: &Path, opts: &LoadOptions) -> Result<Vec<BarSeries>, DataError> {
    load_csv_blocks(path, opts, BLOCK)
}

/// [`load_csv`] with blocks of about `block` bytes.
fn load_csv_blocks(
    path: &Path,
    opts: &LoadOptions,
    block: usize,
) -> Result<Vec<BarSeries>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
    let file_len = reader.get_ref().metadata().map_err(io)?.len() as usize;
    let header = read_header(&mut reader, path)?;
    let names = split_header(&header);
    let layout = Layout::resolve(&names, path)?;

    let mut asm = Assembler::new(path, &layout.names, opts);
    let mut buf: Vec<u8> = Vec::with_capacity(header.len() + block + block / 8 + 1);
    let mut first = true;
    loop {
        // `buf` = header + any carried partial record; fill it up to the block size.
        let filled = buf.len();
        if filled == 0 {
            buf.extend_from_slice(&header);
        }
        let want = (header.len() + block)
            .saturating_sub(buf.len())
            .max(block / 8 + 1);
        let got = (&mut reader)
            .take(want as u64)
            .read_to_end(&mut buf)
            .map_err(io)?;
        let eof = got == 0;
        let end = if eof {
            buf.len()
        } else {
            match record_end(&buf[header.len()..]) {
                Some(e) => header.len() + e,
                // No complete record yet (a very long line): read more.
                None => continue,
            }
        };
        let body = &buf[header.len()..end];
        if !body.iter().all(u8::is_ascii_whitespace) {
            if first {
                // Size the output from the first block's row density.
                let rows = body.iter().filter(|b| **b == b'\n').count().max(1);
                asm.expect_rows(file_len / body.len().max(1) * rows + rows);
                first = false;
            }
            let df = parse_block(&buf[..end], &layout, names.len(), path)?;
            push_frame(&mut asm, df, &layout)?;
        }
        if eof {
            break;
        }
        // Keep the header and the partial record after `end` for the next block.
        buf.drain(header.len()..end);
    }
    asm.finish()
}

/// The first non-blank line (with its line break), or [`DataError::Empty`].
fn read_header(reader: &mut BufReader<File>, path: &Path) -> Result<Vec<u8>, DataError> {
    let mut line = Vec::new();
    while line.iter().all(u8::is_ascii_whitespace) {
        line.clear();
        let n = reader
            .by_ref()
            .take(MAX_HEADER)
            .read_until(b'\n', &mut line)
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
    }
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    Ok(line)
}

/// Column names of a header line (BOM, quotes and surrounding whitespace removed).
fn split_header(line: &[u8]) -> Vec<String> {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|n| n.trim().trim_matches('"').to_string())
        .collect()
}

/// Length of the longest prefix of `data` that ends with a complete record (a line break
/// outside quotes), or `None` if there is none.
fn record_end(data: &[u8]) -> Option<usize> {
    if !data.contains(&b'"') {
        return data.iter().rposition(|b| *b == b'\n').map(|i| i + 1);
    }
    let total_quotes = data.iter().filter(|b| **b == b'"').count();
    let mut quotes_after = 0usize;
    for i in (0..data.len()).rev() {
        match data[i] {
            b'"' => quotes_after += 1,
            b'\n' if (total_quotes - quotes_after).is_multiple_of(2) => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Parse one block (header line + complete records). Prices are read as numbers; if polars
/// rejects a value the block is re-read as text so the conversion reports the exact cell.
/// If even that fails, the file itself is malformed.
fn parse_block(
    block: &[u8],
    layout: &Layout,
    width: usize,
    path: &Path,
) -> Result<DataFrame, DataError> {
    match read_block(block, layout, width, true) {
        Ok(df) => Ok(df),
        Err(typed) => {
            read_block(block, layout, width, false).map_err(|_| DataError::polars(path, &typed))
        }
    }
}

/// Read the bar columns of `block`; `typed` reads prices as `Float64`, else all as text.
fn read_block(block: &[u8], layout: &Layout, width: usize, typed: bool) -> PolarsResult<DataFrame> {
    let projection = layout.projection();
    let last = projection.last().copied().unwrap_or(0);
    let mut dtypes = vec![DataType::String; (last + 1).min(width)];
    if typed {
        for i in layout.values {
            if let Some(d) = dtypes.get_mut(i) {
                *d = DataType::Float64;
            }
        }
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_projection(Some(Arc::new(projection)))
        .with_dtype_overwrite(Some(Arc::new(dtypes)))
        .into_reader_with_file_handle(Cursor::new(block))
        .finish()
}

/// Hand the bar columns of `df` (which holds the projection in file order) to `asm`.
fn push_frame(asm: &mut Assembler, df: DataFrame, layout: &Layout) -> Result<(), DataError> {
    let height = df.height();
    let projection = layout.projection();
    let mut cols: Vec<Option<Column>> = df.into_columns().into_iter().map(Some).collect();
    let mut take = |file_idx: usize| {
        projection
            .iter()
            .position(|p| *p == file_idx)
            .and_then(|k| cols.get_mut(k))
            .and_then(Option::take)
            .unwrap_or_else(|| Column::new_empty("".into(), &DataType::String))
    };
    let symbol = layout.symbol.map(&mut take);
    let groups = asm.groups(symbol, height)?;
    let bars = Bars {
        ts: take(layout.ts),
        values: layout.values.map(&mut take),
    };
    asm.push(bars, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_end_respects_quotes() {
        assert_eq!(record_end(b"a,b\nc,d\ne"), Some(8));
        assert_eq!(record_end(b"a,\"b\nc\",d\ne"), Some(10));
        assert_eq!(record_end(b"a,\"b\nc"), None);
        assert_eq!(record_end(b"abc"), None);
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn small_blocks_give_the_same_result() {
        let dir = tempfile::TempDir::new().unwrap();
        let s = crate::synth::generate(&crate::synth::SynthConfig {
            bars: 2_000,
            ..Default::default()
        });
        let p = dir.path().join("s.csv");
        crate::write_csv(&s, &p).unwrap();
        let opts = LoadOptions::default();
        for block in [1, 100, 4096, 50_000] {
            assert_eq!(
                load_csv_blocks(&p, &opts, block).unwrap(),
                vec![s.clone()],
                "{block}"
            );
        }
    }

    #[test]
    fn small_blocks_multi_symbol_quotes_and_no_final_newline() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut text = String::from("symbol,ts,open,high,low,close,volume\n");
        for i in 0..300 {
            let sym = ["A", "\"B\nX\"", "C"][i % 3];
            text.push_str(&format!(
                "{sym},{},1,2,0.5,1.5,{i}\n",
                1_700_000_000 + 60 * i
            ));
        }
        text.pop();
        let p = write(&dir, "m.csv", &text);
        let whole = load_csv_blocks(&p, &LoadOptions::default(), 1 << 20).unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[1].symbol, "B\nX");
        assert_eq!(whole[2].volume.last(), Some(&299.0));
        for block in [1, 37, 512] {
            assert_eq!(
                load_csv_blocks(&p, &LoadOptions::default(), block).unwrap(),
                whole
            );
        }
    }

    #[test]
    fn row_numbers_count_across_blocks() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut text = String::from("ts,open,high,low,close,volume\n");
        for i in 0..500 {
            let close = if i == 433 {
                "oops".to_string()
            } else {
                "1.5".to_string()
            };
            text.push_str(&format!("{},1,2,0.5,{close},1\n", 1_700_000_000 + 60 * i));
        }
        let p = write(&dir, "r.csv", &text);
        for block in [64, 1000, 1 << 20] {
            let err = load_csv_blocks(&p, &LoadOptions::default(), block).unwrap_err();
            assert!(
                matches!(&err, DataError::Parse { row: 434, column, .. } if column == "close"),
                "{block}: {err:?}"
            );
        }
        // A validation error in a later block.
        let text = text.replace("oops", "1.5");
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[301] = lines[301].replace(",1,2,", ",1,0.9,");
        let p = write(&dir, "v.csv", &(lines.join("\n") + "\n"));
        for block in [64, 1 << 20] {
            let err = load_csv_blocks(&p, &LoadOptions::default(), block).unwrap_err();
            assert!(
                matches!(&err, DataError::Invalid { row: 301, column, .. } if column == "high"),
                "{block}: {err:?}"
            );
        }
    }

    #[test]
    fn header_names() {
        assert_eq!(
            split_header(b"\xef\xbb\xbf\"ts\", Open ,close\r\n"),
            vec!["ts", "Open", "close"]
        );
    }
}
