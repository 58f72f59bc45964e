//! The providers of a generation as JSON records, one per `seq`.
//!
//! `providers.jsonl` holds each valid provider as one JSON line, in file
//! order; `providers.offsets` holds the byte offset of every line (little
//! endian u64, plus the end). Search reads only the page of hits it
//! returns, with one positioned read per hit. Keeping the records out of
//! tantivy's doc store means sorting segments by position never rewrites
//! them, and a hit is one read and one JSON parse.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::IndexError;
use crate::provider::Provider;

const RECORDS: &str = "providers.jsonl";
const OFFSETS: &str = "providers.offsets";

fn io_error(path: &Path, action: &str) -> impl FnOnce(std::io::Error) -> IndexError {
    let context = format!("{action} {}", path.display());
    move |source| IndexError::Io { context, source }
}

/// Appends records while a generation is built.
pub struct RecordWriter {
    out: BufWriter<File>,
    offsets: Vec<u64>,
    position: u64,
    directory: std::path::PathBuf,
    /// Reused for every record, so serialising allocates nothing.
    line: Vec<u8>,
}

impl RecordWriter {
    pub fn create(directory: &Path) -> Result<RecordWriter, IndexError> {
        let path = directory.join(RECORDS);
        let file = File::create(&path).map_err(io_error(&path, "creating"))?;
        Ok(RecordWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            offsets: Vec::new(),
            position: 0,
            directory: directory.to_path_buf(),
            line: Vec::with_capacity(4096),
        })
    }

    /// Writes the next record (its `seq` is the number written before it).
    pub fn append(&mut self, provider: &Provider) -> Result<(), IndexError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, provider)
            .map_err(|e| IndexError::Corrupt(format!("serialising a provider: {e}")))?;
        self.line.push(b'\n');
        if let Err(error) = self.out.write_all(&self.line) {
            return Err(io_error(&self.directory.join(RECORDS), "writing")(error));
        }
        self.offsets.push(self.position);
        self.position += self.line.len() as u64;
        Ok(())
    }

    /// Flushes the records and writes the offsets, both synced to disk.
    pub fn finish(mut self) -> Result<(), IndexError> {
        let records = self.directory.join(RECORDS);
        self.out.flush().map_err(io_error(&records, "writing"))?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| io_error(&records, "writing")(e.into_error()))?;
        file.sync_all().map_err(io_error(&records, "syncing"))?;
        self.offsets.push(self.position);
        let path = self.directory.join(OFFSETS);
        let write = || -> std::io::Result<()> {
            let file = File::create(&path)?;
            let mut out = BufWriter::new(&file);
            for offset in &self.offsets {
                out.write_all(&offset.to_le_bytes())?;
            }
            out.flush()?;
            drop(out);
            file.sync_all()
        };
        write().map_err(io_error(&path, "writing"))
    }
}

/// Reads records of a published generation.
#[derive(Debug)]
pub struct RecordStore {
    file: File,
    /// Start of every record, plus the end of the last one.
    offsets: Vec<u64>,
}

impl RecordStore {
    pub fn open(directory: &Path) -> Result<RecordStore, IndexError> {
        let path = directory.join(OFFSETS);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|f| BufReader::new(f).read_to_end(&mut bytes))
            .map_err(io_error(&path, "reading"))?;
        if bytes.len() % 8 != 0 || bytes.is_empty() {
            return Err(IndexError::Corrupt(format!(
                "{} is truncated",
                path.display()
            )));
        }
        let offsets: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        let records = directory.join(RECORDS);
        let file = File::open(&records).map_err(io_error(&records, "opening"))?;
        let length = file
            .metadata()
            .map_err(io_error(&records, "reading"))?
            .len();
        let ordered = offsets.windows(2).all(|w| w[0] < w[1]);
        if !ordered || offsets.last() != Some(&length) {
            return Err(IndexError::Corrupt(format!(
                "{} does not match {}",
                path.display(),
                records.display()
            )));
        }
        Ok(RecordStore { file, offsets })
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Calls `each` with every provider in `seq` order until it returns
    /// false; reads in blocks, so memory stays constant.
    pub fn for_each(&self, mut each: impl FnMut(Provider) -> bool) -> Result<(), IndexError> {
        const BLOCK: u64 = 1 << 20;
        let end = self.offsets.last().copied().unwrap_or(0);
        let mut seq = 0usize;
        let mut block_start = 0u64;
        let mut buffer = Vec::new();
        while block_start < end {
            // Whole records only: extend the block to the next record start.
            let wanted = (block_start + BLOCK).min(end);
            let next = self.offsets.partition_point(|&o| o < wanted);
            let block_end = self.offsets.get(next).copied().unwrap_or(end).max(wanted);
            buffer.resize((block_end - block_start) as usize, 0);
            self.file
                .read_exact_at(&mut buffer, block_start)
                .map_err(|source| IndexError::Io {
                    context: "reading provider records".into(),
                    source,
                })?;
            while seq + 1 < self.offsets.len() && self.offsets[seq + 1] <= block_end {
                let from = (self.offsets[seq] - block_start) as usize;
                let to = (self.offsets[seq + 1] - block_start) as usize;
                let provider = serde_json::from_slice(&buffer[from..to]).map_err(|e| {
                    IndexError::Corrupt(format!("provider record {seq} does not parse: {e}"))
                })?;
                if !each(provider) {
                    return Ok(());
                }
                seq += 1;
            }
            block_start = block_end;
        }
        Ok(())
    }

    /// The provider with this `seq`.
    pub fn get(&self, seq: u32) -> Result<Provider, IndexError> {
        let seq = seq as usize;
        let (Some(&start), Some(&end)) = (self.offsets.get(seq), self.offsets.get(seq + 1)) else {
            return Err(IndexError::Corrupt(format!("no record {seq}")));
        };
        let mut line = vec![0u8; (end - start) as usize];
        self.file
            .read_exact_at(&mut line, start)
            .map_err(|source| IndexError::Io {
                context: format!("reading provider record {seq}"),
                source,
            })?;
        serde_json::from_slice(&line)
            .map_err(|e| IndexError::Corrupt(format!("provider record {seq} does not parse: {e}")))
    }
}
