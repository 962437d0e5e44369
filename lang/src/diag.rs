//! Compile-time diagnostics: every parse or check error is a
//! [`miette::Diagnostic`] with the script text attached, a label under the
//! offending span and, where one helps, a help line.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use crate::span::Span;

/// One error.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    /// Where it is; `None` for errors about the program as a whole.
    pub span: Option<Span>,
    /// Text under the span (short); defaults to nothing.
    pub label: Option<String>,
    pub help: Option<String>,
    /// A warning: reported, and the program still runs.
    pub warning: bool,
    source: Option<NamedSource<Arc<str>>>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            label: None,
            help: None,
            warning: false,
            source: None,
        }
    }
    /// An error with no position in the source.
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            label: None,
            help: None,
            warning: false,
            source: None,
        }
    }
    /// The same as a warning (the program still runs).
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Name of the script this diagnostic points into, once attached.
    pub fn source_name(&self) -> Option<&str> {
        self.source.as_ref().map(|s| s.name())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        self.warning.then_some(miette::Severity::Warning)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// One or more errors, in the order they were found.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn one(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Moves every span into source `source` (the parser makes its
    /// syntax errors before it knows nodes).
    pub fn in_source(mut self, source: crate::span::SourceId) -> Self {
        for d in &mut self.items {
            d.span = d.span.map(|s| s.in_source(source));
        }
        self
    }
    /// Attaches to every diagnostic that has no text yet the source its
    /// span is in (`sources` indexed by [`crate::span::SourceId`]); one
    /// without a span, or with a span outside `sources`, gets `fallback`'s
    /// (none when `fallback` is out of range too).
    pub fn with_sources(mut self, sources: &[(&str, &str)], fallback: usize) -> Self {
        let named: Vec<NamedSource<Arc<str>>> = sources
            .iter()
            .map(|(n, t)| NamedSource::new(*n, Arc::<str>::from(*t)))
            .collect();
        for d in &mut self.items {
            if d.source.is_some() {
                continue;
            }
            let i = d
                .span
                .map(|s| usize::from(s.source))
                .filter(|&i| i < named.len())
                .unwrap_or(fallback);
            d.source = named.get(i).cloned();
        }
        self
    }
    /// Attaches the script text to every diagnostic that has none yet.
    pub fn with_source(mut self, name: &str, text: &str) -> Self {
        let src = NamedSource::new(name, Arc::<str>::from(text));
        for d in &mut self.items {
            if d.source.is_none() {
                d.source = Some(src.clone());
            }
        }
        self
    }
    /// Renders every diagnostic without colors (for files, pipes and tests).
    pub fn render(&self) -> String {
        self.render_with(GraphicalTheme::unicode_nocolor())
    }
    /// Renders with colors (for a terminal).
    pub fn render_colored(&self) -> String {
        self.render_with(GraphicalTheme::unicode())
    }
    fn render_with(&self, theme: GraphicalTheme) -> String {
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            // miette cannot lay out a line of more than 65,535 columns
            // (it panics): such a line is named, not shown.
            if let Some(plain) = d.render_long_line() {
                out.push_str(&plain);
                continue;
            }
            // A span that does not fit the attached text (it cannot happen
            // for diagnostics made by this crate) makes miette fail: fall
            // back to the bare message rather than lose the error.
            let mut one = String::new();
            match handler.render_report(&mut one, d) {
                Ok(()) => out.push_str(&one),
                Err(_) => {
                    out.push_str("  × ");
                    out.push_str(&d.message);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// Lines longer than this are not shown under a diagnostic.
const MAX_SHOWN_LINE: usize = 4096;

impl Diagnostic {
    /// The diagnostic without its source line when that line is too long
    /// to show: message, place, label, help.
    fn render_long_line(&self) -> Option<String> {
        let (src, span) = (self.source.as_ref()?, self.span?);
        let text: &str = src.inner();
        let at = (span.start as usize).min(text.len());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        if line_end - line_start <= MAX_SHOWN_LINE {
            return None;
        }
        let line = text[..at].matches('\n').count() + 1;
        let col = text[line_start..at].chars().count() + 1;
        let mut out = format!(
            "  × {}\n   ╭─[{}:{line}:{col}]\n   · (line {line} is {} characters long: not shown)\n",
            self.message,
            src.name(),
            line_end - line_start
        );
        if let Some(l) = &self.label {
            out += &format!("   · {l}\n");
        }
        out += "   ╰────\n";
        if let Some(h) = &self.help {
            out += &format!("  help: {h}\n");
        }
        Some(out)
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics::one(d)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_far_into_a_long_line_names_its_place() {
        let text = format!("BEGIN {{ {}nope(); }}", " ".repeat(70_000));
        let at = text.find("nope").unwrap();
        let d = Diagnostics::one(
            Diagnostic::new("failed to resolve nope", Span::new(at, at + 4)).with_label("here"),
        )
        .with_source("long.d", &text);
        let out = d.render();
        assert!(
            out.starts_with("  × failed to resolve nope\n   ╭─[long.d:1:70009]\n"),
            "{out}"
        );
        assert!(out.contains("here"), "{out}");
    }

    #[test]
    fn a_span_outside_the_text_still_renders_the_message() {
        let d = Diagnostics::one(Diagnostic::new("broken span", Span::new(50, 60)))
            .with_source("x.d", "short");
        assert!(d.render().contains("broken span"));
    }
}
