//! Measuring, cutting and wrapping text by terminal cells, so that wide characters (CJK, emoji) are never split or
//! placed half outside a pane.
//!
//! Text is cut into grapheme clusters with `unicode-segmentation`, exactly as ratatui's buffer cuts what it writes
//! (a flag, a ZWJ family, a letter with its combining marks are one cluster each), and a cluster is measured as a
//! whole with `unicode-width`, like ratatui measures the cells it writes: the two never disagree, so nothing is left
//! behind on screen when a wide cluster is drawn, moved or erased.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The clusters of `s` with their widths. A cluster with a control character (newline, tab...) has width 0, so
/// callers can see and replace it; the terminal buffer would drop it.
pub fn clusters(s: &str) -> impl Iterator<Item = (&str, usize)> {
    s.graphemes(true).map(|g| (g, if g.chars().any(char::is_control) { 0 } else { UnicodeWidthStr::width(g) }))
}

/// Cells `s` takes.
pub fn width(s: &str) -> usize {
    clusters(s).map(|(_, w)| w).sum()
}

/// Tabs become spaces, newlines stay when `keep_newlines`, other control characters go (they would move the
/// terminal's cursor).
pub fn clean(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push_str("    "),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to `max` cells, ending in `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for (c, w) in clusters(s) {
        if used + w + 1 > max {
            break;
        }
        out.push_str(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Spans cut to `max` cells in total, the last one ending in `…` when something was cut.
pub fn truncate_spans(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| width(&s.content)).sum();
    if total <= max {
        return spans;
    }
    let mut out = Vec::new();
    let mut left = max;
    for span in spans {
        let w = width(&span.content);
        if w < left {
            left -= w;
            out.push(span);
        } else {
            out.push(Span::styled(truncate(&span.content, left), span.style));
            break;
        }
    }
    out
}

/// Spaces up to `w` cells after `s`'s `used` cells.
pub fn pad(used: usize, w: usize) -> String {
    " ".repeat(w.saturating_sub(used))
}

/// Byte ranges of `text` matching `query` case-insensitively (character by character, so offsets stay valid for
/// characters whose lowercase is longer).
pub fn matches(text: &str, query: &str) -> Vec<(usize, usize)> {
    let fold = |c: char| c.to_lowercase().next().unwrap_or(c);
    let needle: Vec<char> = query.chars().map(fold).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let hay: Vec<(usize, char)> = text.char_indices().map(|(i, c)| (i, fold(c))).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay[i..i + needle.len()].iter().map(|(_, c)| *c).eq(needle.iter().copied()) {
            let end = hay.get(i + needle.len()).map_or(text.len(), |(b, _)| *b);
            found.push((hay[i].0, end));
            i += needle.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Splits `text` into spans, the parts matching `query` (see [`matches`]) in `hit`, the rest in `base`.
pub fn highlight(text: &str, query: &str, base: Style, hit: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut plain_from = 0;
    for (start, end) in matches(text, query) {
        if start > plain_from {
            spans.push(Span::styled(text[plain_from..start].to_owned(), base));
        }
        spans.push(Span::styled(text[start..end].to_owned(), hit));
        plain_from = end;
    }
    if plain_from < text.len() || spans.is_empty() {
        spans.push(Span::styled(text[plain_from..].to_owned(), base));
    }
    spans
}

/// One cluster placed in a row.
struct Cell<'a> {
    text: &'a str,
    width: usize,
    style: Style,
}

/// Word-wraps `body` into rows of `width` cells. The first row starts with `prefix`; the others with `indent`
/// spaces. Words longer than a row are broken between clusters; a wide cluster that would straddle the edge moves to
/// the next row. Newlines in the body start a new row.
pub fn wrap(prefix: Vec<Span<'static>>, body: &[Span<'_>], indent: usize, width: usize) -> Vec<Line<'static>> {
    let prefix_w: usize = prefix.iter().map(|s| self::width(&s.content)).sum();
    let first_cap = width.saturating_sub(prefix_w).max(1);
    let cont_cap = width.saturating_sub(indent).max(1);

    let cells: Vec<Cell<'_>> = body
        .iter()
        .flat_map(|span| clusters(&span.content).map(move |(text, width)| Cell { text, width, style: span.style }))
        .collect();

    // Rows as indices into `cells`.
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row: Vec<usize> = Vec::new();
    let mut used = 0;
    let mut cap = first_cap;
    // Ends the current row; `soft` rows (broken by wrapping, not by a newline) lose their trailing spaces.
    let mut finish = |row: &mut Vec<usize>, used: &mut usize, cap: &mut usize, soft: bool| {
        if soft {
            while row.last().is_some_and(|&c| cells[c].text == " ") {
                row.pop();
            }
        }
        rows.push(std::mem::take(row));
        *used = 0;
        *cap = cont_cap;
    };

    let mut i = 0;
    while i < cells.len() {
        let cell = &cells[i];
        if cell.text == "\n" {
            finish(&mut row, &mut used, &mut cap, false);
            i += 1;
            continue;
        }
        if cell.text == " " {
            if used < cap {
                row.push(i);
                used += 1;
            } else {
                // The space falls on the break itself: drop it.
                finish(&mut row, &mut used, &mut cap, true);
            }
            i += 1;
            continue;
        }
        let end = cells[i..].iter().position(|c| c.text == " " || c.text == "\n").map_or(cells.len(), |p| i + p);
        let word_w: usize = cells[i..end].iter().map(|c| c.width).sum();
        if used + word_w > cap && used > 0 && word_w <= cont_cap {
            finish(&mut row, &mut used, &mut cap, true);
        }
        for (j, cell) in cells.iter().enumerate().take(end).skip(i) {
            if used + cell.width > cap && used > 0 {
                finish(&mut row, &mut used, &mut cap, true);
            }
            row.push(j);
            used += cell.width;
        }
        i = end;
    }
    rows.push(row);

    let mut prefix = Some(prefix);
    rows.into_iter()
        .map(|indices| {
            let mut spans = match prefix.take() {
                Some(p) => p,
                None if indent > 0 => vec![Span::raw(" ".repeat(indent))],
                None => Vec::new(),
            };
            let mut text = String::new();
            let mut style = None;
            for cell in indices.into_iter().map(|j| &cells[j]) {
                if style.is_some_and(|s| s != cell.style) {
                    spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or_default()));
                }
                style = Some(cell.style);
                text.push_str(cell.text);
            }
            if !text.is_empty() {
                spans.push(Span::styled(text, style.unwrap_or_default()));
            }
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(body: &str, width: usize) -> Vec<String> {
        wrap(vec![Span::raw("> ")], &[Span::raw(body.to_owned())], 2, width)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn measures_clusters_like_the_terminal() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本語"), 6);
        assert_eq!(width("🎉"), 2);
        // A family emoji joined by ZWJs is one cluster of two cells.
        assert_eq!(clusters("👨‍👩‍👧").count(), 1);
        assert_eq!(width("e\u{301}"), 1);
        // Control characters stand alone, so that callers can replace them.
        let parts: Vec<(&str, usize)> = clusters("a\tb\n").collect();
        assert_eq!(parts, [("a", 1), ("\t", 0), ("b", 1), ("\n", 0)]);
    }

    #[test]
    fn truncates_without_splitting_wide_characters() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        // 日本 is 4 cells; a third wide character does not fit next to the ellipsis in 6.
        assert_eq!(truncate("日本語です", 6), "日本…");
        assert_eq!(truncate("日本語です", 7), "日本語…");
    }

    #[test]
    fn wraps_words_and_breaks_long_ones() {
        assert_eq!(rows("the quick brown fox", 12), ["> the quick", "  brown fox"]);
        assert_eq!(rows("abcdefghijklmnop", 8), ["> abcdef", "  ghijkl", "  mnop"]);
        assert_eq!(rows("one\ntwo", 20), ["> one", "  two"]);
    }

    #[test]
    fn wide_characters_never_straddle_the_edge() {
        // Width 7: after "> " there are 5 cells, room for two wide characters, not a half third one.
        assert_eq!(rows("日本語です", 7), ["> 日本", "  語で", "  す"]);
        for row in rows("漢字とemoji🎉🎉🎉が混ざった長い文", 9) {
            assert!(width(&row) <= 9, "{row:?}");
        }
    }

    #[test]
    fn highlights_case_insensitively() {
        let spans = highlight("Hello hello", "HELLO", Style::new(), Style::new().bold());
        let parts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(parts, ["Hello", " ", "hello"]);
        assert_eq!(matches("Ünïcode text", "ünï"), [(0, 5)]);
        assert!(matches("abc", "x").is_empty());
    }
}
