//! Which slice of a sweep this process runs: `--shard K/N`, or a scheduler's environment.
//!
//! Task `t` (runs × datasets in index order) belongs to shard `t mod N`: round robin, so
//! every shard gets a similar mix of cheap and expensive parameter sets.

use std::fmt;

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 || index >= count {
            return Err(ShardError::Range { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Whether task `t` is this shard's.
    pub fn owns(&self, t: u64) -> bool {
        t % self.count as u64 == self.index as u64
    }

    /// `part-K-of-N` (the file stem of this shard's results).
    pub fn part_name(&self) -> String {
        format!("part-{}-of-{}", self.index, self.count)
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A bad shard specification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {0}: expected K/N with 0 <= K < N, e.g. 0/4")]
    Syntax(String),
    #[error("shard {index}/{count}: the index must be below the count (0-based)")]
    Range { index: u32, count: u32 },
    #[error("{var}={value}: not a non-negative integer")]
    Env { var: &'static str, value: String },
    #[error(
        "JOB_COMPLETION_INDEX={0} is set (Kubernetes Indexed Job) but the number of shards is not: pass --shard-count N or set TICKLINE_SHARD_COUNT (the Job's completions)"
    )]
    NoCount(u32),
}

/// Parse `K/N`.
pub fn parse(text: &str) -> Result<Shard, ShardError> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| ShardError::Syntax(text.to_string()))?;
    let num = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| ShardError::Syntax(text.to_string()))
    };
    Shard::new(num(k)?, num(n)?)
}

/// Where the shard came from, for the log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Slurm,
    Kubernetes,
    None,
}

/// The shard from `--shard`, else from the environment: Slurm job arrays
/// (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`) or a
/// Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, of `--shard-count` or
/// `TICKLINE_SHARD_COUNT`), else the whole sweep. `env` reads a variable (injected for tests).
pub fn resolve(
    flag: Option<&str>,
    shard_count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Shard, Source), ShardError> {
    if let Some(text) = flag {
        return Ok((parse(text)?, Source::Flag));
    }
    let num = |var: &'static str| -> Result<Option<u32>, ShardError> {
        match env(var) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .map(Some)
                .map_err(|_| ShardError::Env { var, value: v }),
        }
    };
    if let (Some(id), Some(count)) = (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_COUNT")?) {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let index = id
            .checked_sub(min)
            .ok_or(ShardError::Range { index: id, count })?;
        return Ok((Shard::new(index, count)?, Source::Slurm));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let count = match shard_count {
            Some(c) => c,
            None => num("TICKLINE_SHARD_COUNT")?.ok_or(ShardError::NoCount(index))?,
        };
        return Ok((Shard::new(index, count)?, Source::Kubernetes));
    }
    Ok((Shard::ALL, Source::None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn flag_then_slurm_then_kubernetes() {
        let none = env(&[]);
        assert_eq!(
            resolve(None, None, &none).unwrap(),
            (Shard::ALL, Source::None)
        );
        assert_eq!(
            resolve(Some("2/4"), None, &none).unwrap(),
            (Shard { index: 2, count: 4 }, Source::Flag)
        );
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ]);
        assert_eq!(
            resolve(None, None, &slurm).unwrap(),
            (Shard { index: 1, count: 3 }, Source::Slurm)
        );
        assert_eq!(resolve(Some("0/1"), None, &slurm).unwrap().1, Source::Flag);
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("TICKLINE_SHARD_COUNT", "4")]);
        assert_eq!(
            resolve(None, None, &k8s).unwrap(),
            (Shard { index: 3, count: 4 }, Source::Kubernetes)
        );
        assert_eq!(
            resolve(None, Some(8), &k8s).unwrap().0,
            Shard { index: 3, count: 8 }
        );
    }

    #[test]
    fn bad_shards_are_errors() {
        let none = env(&[]);
        for bad in ["4/4", "1", "a/b", "0/0", "-1/2"] {
            assert!(resolve(Some(bad), None, &none).is_err(), "{bad}");
        }
        let k8s = env(&[("JOB_COMPLETION_INDEX", "1")]);
        assert!(matches!(
            resolve(None, None, &k8s),
            Err(ShardError::NoCount(1))
        ));
        let bad = env(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        assert_eq!(
            resolve(None, None, &bad).unwrap_err().to_string(),
            "SLURM_ARRAY_TASK_ID=x: not a non-negative integer"
        );
    }

    #[test]
    fn shards_partition_the_tasks() {
        let n = 3;
        for t in 0..100u64 {
            let owners: Vec<u32> = (0..n)
                .filter(|&k| Shard::new(k, n).unwrap().owns(t))
                .collect();
            assert_eq!(owners.len(), 1);
        }
    }
}
