//! PLACEHOLDER until the payload engine lands from the `payload` branch.
use crate::rules::detection::{BufferMatch, MatchTest};

#[derive(Debug, thiserror::Error)]
#[error("pcre")]
pub struct PcreError;

#[derive(Debug)]
pub struct BufferProgram {
    buffer: Option<&'static str>,
    matches: Vec<BufferMatch>,
}

pub fn compile_matches(matches: &[BufferMatch]) -> Result<Vec<BufferProgram>, PcreError> {
    let mut out: Vec<BufferProgram> = Vec::new();
    for m in matches {
        match out
            .iter_mut()
            .find(|p| p.buffer == m.buffer && p.matches[0].transforms == m.transforms)
        {
            Some(p) => p.matches.push(m.clone()),
            None => out.push(BufferProgram {
                buffer: m.buffer,
                matches: vec![m.clone()],
            }),
        }
    }
    Ok(out)
}

impl BufferProgram {
    pub fn buffer(&self) -> Option<&'static str> {
        self.buffer
    }
    pub fn inspect(&self, data: &[u8]) -> bool {
        let mut prev_end = 0usize;
        for m in &self.matches {
            match &m.test {
                MatchTest::Content(c) => {
                    let lower = |b: &[u8]| b.to_ascii_lowercase();
                    let (hay, pat) = if c.nocase {
                        (lower(data), lower(&c.bytes))
                    } else {
                        (data.to_vec(), c.bytes.clone())
                    };
                    let mut start = c.offset.map_or(0, usize::from);
                    let mut end = c
                        .depth
                        .map_or(hay.len(), |d| (start + usize::from(d)).min(hay.len()));
                    if c.relative() {
                        start =
                            (prev_end as i64 + i64::from(c.distance.unwrap_or(0))).max(0) as usize;
                        end = c
                            .within
                            .map_or(hay.len(), |w| (start + w as usize).min(hay.len()));
                    }
                    if start > end || start > hay.len() {
                        if c.negated {
                            continue;
                        } else {
                            return false;
                        }
                    }
                    let found = hay[start..end]
                        .windows(pat.len().max(1))
                        .position(|w| w == &pat[..])
                        .map(|p| start + p)
                        .filter(|p| !c.endswith || p + pat.len() == hay.len());
                    match (found, c.negated) {
                        (Some(p), false) => prev_end = p + pat.len(),
                        (None, true) => {}
                        _ => return false,
                    }
                }
                MatchTest::Bsize(t) => {
                    if !super::signature::num_test(t, data.len() as u64) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        true
    }
}
