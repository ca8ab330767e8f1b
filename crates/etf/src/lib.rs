//! etf
