//! [`ConfigError`]: every problem found in a config, each with its line, column and fix.

use std::fmt;

/// A place in a config file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The line, counted from 1.
    pub line: usize,
    /// The column in characters, counted from 1.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Self { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is, when the config came from a file.
    pub location: Option<Location>,
    /// The setting it concerns, as a dotted path (`routes.chat.deployments[1]`).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: Option<String>,
}

impl Problem {
    /// A problem at `path` (no location yet).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: None,
            path: path.into(),
            message: message.into(),
            fix: None,
        }
    }

    /// Adds the fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Why a config cannot be used: where it came from and every problem found in it.
///
/// `Display` prints one problem per line in the `file:line:column: message. Fix: …`
/// form compilers use, so editors can jump to it:
///
/// ```text
/// tollgate.toml:12:17: route `chat` uses unknown deployment `gpt4`; known deployments: claude-haiku, gpt-4o-mini. Fix: did you mean `gpt-4o-mini`? Use one of the known names or define [deployments.gpt4].
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    origin: String,
    problems: Vec<Problem>,
}

impl ConfigError {
    /// Problems found in the config read from `origin` (a file name, `<environment>`, …).
    pub fn new(origin: impl Into<String>, problems: Vec<Problem>) -> Self {
        Self {
            origin: origin.into(),
            problems,
        }
    }

    /// One problem.
    pub fn single(origin: impl Into<String>, problem: Problem) -> Self {
        Self::new(origin, vec![problem])
    }

    /// Where the config came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every problem, in file order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.origin)?;
            match problem.location {
                Some(location) => write!(f, ":{location}: ")?,
                None if problem.path.is_empty() => f.write_str(": ")?,
                None => write!(f, ": {}: ", problem.path)?,
            }
            f.write_str(&problem.message)?;
            if let Some(fix) = &problem.fix {
                let sep = if problem.message.ends_with('.') {
                    " "
                } else {
                    ". "
                };
                write!(f, "{sep}Fix: {fix}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_characters_from_one() {
        let text = "a = 1\n[x]\néé = 2\n";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 7),
            Location { line: 2, column: 2 }
        );
        let e2 = text.find("= 2").unwrap();
        assert_eq!(
            Location::of_offset(text, e2),
            Location { line: 3, column: 4 }
        );
    }

    #[test]
    fn display_is_file_line_column_message_fix() {
        let mut problem =
            Problem::new("routes.chat", "route `chat` has no deployments").fix("list at least one");
        problem.location = Some(Location { line: 4, column: 1 });
        let error = ConfigError::new("t.toml", vec![problem, Problem::new("server", "bad")]);
        assert_eq!(
            error.to_string(),
            "t.toml:4:1: route `chat` has no deployments. Fix: list at least one\nt.toml: server: bad"
        );
    }
}
