//! What can go wrong building a catalog: a malformed table or an invalid override.

/// An error building a [`Catalog`](crate::Catalog) from a table or applying overrides.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A line of a catalog table could not be read.
    #[error("catalog table, line {line}: {message}")]
    Table {
        /// 1-based line number in the table.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A model override from config is invalid.
    #[error("catalog override for {provider}/{model}: {message}")]
    Override {
        /// Provider as written in the override.
        provider: String,
        /// Model as written in the override.
        model: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl CatalogError {
    pub(crate) fn table(line: usize, message: impl Into<String>) -> Self {
        Self::Table {
            line,
            message: message.into(),
        }
    }

    pub(crate) fn with_override(provider: &str, model: &str, message: impl Into<String>) -> Self {
        Self::Override {
            provider: provider.to_owned(),
            model: model.to_owned(),
            message: message.into(),
        }
    }
}
