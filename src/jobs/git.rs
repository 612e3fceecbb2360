//! Rule sources read from git (`git:REV:path`), as `diff --old git:main:rules/` takes
//! them: the file or directory at that revision is written to a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A `git:REV:path` source that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{spec}: not of the form git:REV:PATH")]
    Syntax { spec: String },
    #[error("{spec}: could not run git: {source}")]
    Spawn {
        spec: String,
        source: std::io::Error,
    },
    #[error("{spec}: git {what} failed: {stderr}")]
    Git {
        spec: String,
        what: String,
        stderr: String,
    },
    #[error("{spec}: {source}")]
    Write {
        spec: String,
        source: std::io::Error,
    },
}

/// `git:REV:path` split into revision and path; `None` for a plain path.
pub fn parse_spec(s: &str) -> Option<Result<(String, String), GitError>> {
    let rest = s.strip_prefix("git:")?;
    Some(match rest.split_once(':') {
        Some((rev, path)) if !rev.is_empty() && !path.is_empty() => {
            Ok((rev.to_string(), path.to_string()))
        }
        _ => Err(GitError::Syntax {
            spec: s.to_string(),
        }),
    })
}

fn git(spec: &str, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|source| GitError::Spawn {
            spec: spec.to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(GitError::Git {
            spec: spec.to_string(),
            what: args.first().copied().unwrap_or("").to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// Writes the file or directory `path` (relative to the current directory) as of `rev`
/// under `into`, keeping its relative path; returns where it now is.
pub fn materialize(spec: &str, rev: &str, path: &str, into: &Path) -> Result<PathBuf, GitError> {
    let path = path.trim_start_matches("./");
    let object = format!("{rev}:./{path}");
    let kind = git(spec, &["cat-file", "-t", &object])?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), GitError> {
        let target = into.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| GitError::Write {
                spec: spec.to_string(),
                source,
            })?;
        }
        std::fs::write(&target, bytes).map_err(|source| GitError::Write {
            spec: spec.to_string(),
            source,
        })
    };
    if kind.trim_ascii() == b"tree" {
        let list = git(
            spec,
            &["ls-tree", "-r", "-z", "--name-only", rev, "--", path],
        )?;
        for name in list.split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let name = String::from_utf8_lossy(name).into_owned();
            let bytes = git(spec, &["show", &format!("{rev}:./{name}")])?;
            write(&name, &bytes)?;
        }
    } else {
        let bytes = git(spec, &["show", &object])?;
        write(path, &bytes)?;
    }
    Ok(into.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert!(parse_spec("rules/").is_none());
        let (rev, path) = parse_spec("git:HEAD~1:rules/a.rules").unwrap().unwrap();
        assert_eq!((rev.as_str(), path.as_str()), ("HEAD~1", "rules/a.rules"));
        assert!(parse_spec("git:HEAD").unwrap().is_err());
        assert!(parse_spec("git::x").unwrap().is_err());
    }
}
