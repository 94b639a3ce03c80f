//! Model facts for Tollgate: prices, context windows and capabilities, from a bundled, pinned table overridable from config.
