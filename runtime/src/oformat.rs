//! `-x oformat=json|xml`: structured output in FreeBSD dtrace's schema
//! (dtrace(1), STRUCTURED OUTPUT): one document
//! `{"dtrace": {"probes": [ … ]}}` (XML: `<dtrace><probes>…</probes>…`),
//! one element of `probes` per clause firing that records something —
//! `timestamp` (when it is output), `cpu`, `id`, `provider`, `module`,
//! `function`, `name` and an `output` list: `{"message": …}` then one
//! `{"value": …}` per argument for printf, `{"value": …}` for trace,
//! `{"aggregation-data": [{"keys": […], "<function>": …}],
//! "aggregation-name": …}` for printa — and a `dtrace:INTERNAL:INTERNAL:DROP`
//! element (`count`, `total`, `kind`, `msg`) per drop report. Aggregations
//! are printed only by printa (as dtrace with oformat does).

use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oformat {
    #[default]
    Text,
    Json,
    Xml,
}

impl Oformat {
    pub fn structured(self) -> bool {
        self != Oformat::Text
    }
}

/// A JSON string literal of `b` (invalid UTF-8 replaced).
pub fn json_str(b: &[u8]) -> String {
    serde_json::Value::String(String::from_utf8_lossy(b).into_owned()).to_string()
}

/// `b` as XML character data.
pub fn xml_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            c => s.push(c),
        }
    }
    s
}

/// A scalar of an output item or a record field.
pub enum Field<'a> {
    Int(i64),
    Str(&'a [u8]),
}

fn write_field(f: Oformat, out: &mut Vec<u8>, name: &str, v: &Field<'_>) {
    let _ = match (f, v) {
        (Oformat::Json, Field::Int(n)) => write!(out, "\"{name}\":{n}"),
        (Oformat::Json, Field::Str(s)) => write!(out, "\"{name}\":{}", json_str(s)),
        (_, Field::Int(n)) => write!(out, "<{name}>{n}</{name}>"),
        (_, Field::Str(s)) => write!(out, "<{name}>{}</{name}>", xml_text(s)),
    };
}

/// Starts an item of a record's `output` list (JSON: a comma after the
/// previous one).
fn item_start(f: Oformat, out: &mut Vec<u8>) {
    if f == Oformat::Json {
        if !out.is_empty() {
            out.push(b',');
        }
        out.push(b'{');
    }
}

fn item_end(f: Oformat, out: &mut Vec<u8>) {
    if f == Oformat::Json {
        out.push(b'}');
    }
}

/// `{"name": value}` as one output item.
pub fn item(f: Oformat, out: &mut Vec<u8>, name: &str, v: Field<'_>) {
    item_start(f, out);
    write_field(f, out, name, &v);
    item_end(f, out);
}

/// One aggregation as printa shows it: its rows as `keys` and the value
/// under the aggregating function's name (a distribution as `buckets` of
/// `value`/`count`).
pub struct AggItem<'a> {
    pub name: &'a str,
    pub func: &'a str,
    pub rows: Vec<(Vec<Field<'a>>, AggValue)>,
}

pub enum AggValue {
    Scalar(i64),
    Buckets(Vec<(i64, i64)>),
}

pub fn aggregation(f: Oformat, out: &mut Vec<u8>, a: &AggItem<'_>) {
    item_start(f, out);
    if f == Oformat::Json {
        out.extend_from_slice(b"\"aggregation-data\":[");
    }
    for (i, (keys, value)) in a.rows.iter().enumerate() {
        if f == Oformat::Json {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"keys\":[");
            for (j, k) in keys.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                let _ = match k {
                    Field::Int(n) => write!(out, "{n}"),
                    Field::Str(s) => write!(out, "{}", json_str(s)),
                };
            }
            out.extend_from_slice(b"],");
        } else {
            out.extend_from_slice(b"<aggregation-data><keys>");
            for k in keys {
                write_field(f, out, "key", k);
            }
            out.extend_from_slice(b"</keys>");
        }
        match value {
            AggValue::Scalar(v) => write_field(f, out, a.func, &Field::Int(*v)),
            AggValue::Buckets(b) => {
                if f == Oformat::Json {
                    out.extend_from_slice(b"\"buckets\":[");
                }
                for (j, (v, c)) in b.iter().enumerate() {
                    if f == Oformat::Json {
                        let _ = write!(
                            out,
                            "{}{{\"value\":{v},\"count\":{c}}}",
                            if j > 0 { "," } else { "" }
                        );
                    } else {
                        let _ = write!(
                            out,
                            "<buckets><value>{v}</value><count>{c}</count></buckets>"
                        );
                    }
                }
                if f == Oformat::Json {
                    out.push(b']');
                }
            }
        }
        if f == Oformat::Json {
            out.push(b'}');
        } else {
            out.extend_from_slice(b"</aggregation-data>");
        }
    }
    if f == Oformat::Json {
        out.push(b']');
        out.push(b',');
    }
    write_field(f, out, "aggregation-name", &Field::Str(a.name.as_bytes()));
    item_end(f, out);
}

/// What heads a probe record.
pub struct Header<'a> {
    pub cpu: i64,
    pub id: i64,
    pub provider: &'a str,
    pub module: &'a str,
    pub function: &'a str,
    pub name: &'a str,
}

/// The time a record is output, as dtrace's oformat writes it
/// (`seconds.microseconds` of the wall clock).
fn now_text() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

fn header(f: Oformat, out: &mut Vec<u8>, h: &Header<'_>) {
    let sep = |out: &mut Vec<u8>| {
        if f == Oformat::Json {
            out.push(b',');
        }
    };
    write_field(f, out, "timestamp", &Field::Str(now_text().as_bytes()));
    sep(out);
    write_field(f, out, "cpu", &Field::Int(h.cpu));
    sep(out);
    write_field(f, out, "id", &Field::Int(h.id));
    for (k, v) in [
        ("provider", h.provider),
        ("module", h.module),
        ("function", h.function),
        ("name", h.name),
    ] {
        sep(out);
        write_field(f, out, k, &Field::Str(v.as_bytes()));
    }
}

/// One element of `probes`: the header, then `body` (the rest of its
/// fields); `first` when it is the document's first element.
fn element(
    f: Oformat,
    out: &mut Vec<u8>,
    first: bool,
    h: &Header<'_>,
    body: impl FnOnce(&mut Vec<u8>),
) {
    if f == Oformat::Json {
        if !first {
            out.push(b',');
        }
        out.push(b'{');
        header(f, out, h);
        body(out);
        out.push(b'}');
    } else {
        out.extend_from_slice(b"<probes>");
        header(f, out, h);
        body(out);
        out.extend_from_slice(b"</probes>");
    }
}

/// A clause firing's element: its probe and the clause's `items`.
pub fn record(f: Oformat, out: &mut Vec<u8>, first: bool, h: &Header<'_>, items: &[u8]) {
    element(f, out, first, h, |out| {
        let (open, close): (&[u8], &[u8]) = match f {
            Oformat::Json => (b",\"output\":[", b"]"),
            _ => (b"<output>", b"</output>"),
        };
        out.extend_from_slice(open);
        out.extend_from_slice(items);
        out.extend_from_slice(close);
    });
}

/// A drop report as dtrace's pseudo-probe `dtrace:INTERNAL:INTERNAL:DROP`.
pub fn drop_record(f: Oformat, out: &mut Vec<u8>, first: bool, count: u64, kind: i64, msg: &str) {
    let h = Header {
        cpu: -1,
        id: -1,
        provider: "dtrace",
        module: "INTERNAL",
        function: "INTERNAL",
        name: "DROP",
    };
    let msg = format!("{msg}\n");
    element(f, out, first, &h, |out| {
        let fields = [
            ("count", Field::Int(count as i64)),
            ("total", Field::Int(count as i64)),
            ("kind", Field::Int(kind)),
            ("msg", Field::Str(msg.as_bytes())),
        ];
        for (k, v) in fields {
            if f == Oformat::Json {
                out.push(b',');
            }
            write_field(f, out, k, &v);
        }
    });
}

pub fn document_start(f: Oformat, out: &mut Vec<u8>) {
    match f {
        Oformat::Json => out.extend_from_slice(b"{\"dtrace\":{\"probes\":["),
        Oformat::Xml => out.extend_from_slice(b"<?xml version=\"1.0\"?>\n<dtrace>"),
        Oformat::Text => {}
    }
}

pub fn document_end(f: Oformat, out: &mut Vec<u8>) {
    match f {
        Oformat::Json => out.extend_from_slice(b"]}}\n"),
        Oformat::Xml => out.extend_from_slice(b"</dtrace>\n"),
        Oformat::Text => {}
    }
}

/// dtrace_dropkind_t values of the drops rdtrace reports.
pub const DROP_PRINCIPAL: i64 = 0;
pub const DROP_AGGREGATION: i64 = 1;
pub const DROP_DYNAMIC: i64 = 2;
