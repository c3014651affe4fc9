//! Reading markdown as mdBook does: fences, `{{#...}}` directives, and the
//! prose lines and link targets outside code. No check lives here.

/// One `{{#...}}` directive found in a chapter.
#[derive(Debug)]
pub(crate) struct Directive<'a> {
    pub(crate) kind: &'a str,
    pub(crate) args: &'a str,
}

/// Every `{{#kind args}}` on a line.
pub(crate) fn directives(line: &str) -> Vec<Directive<'_>> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let escaped = rest[..start].ends_with('\\');
        let inner = after[..end].trim();
        let (kind, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        if !escaped {
            found.push(Directive {
                kind,
                args: args.trim(),
            });
        }
        rest = &after[end + 2..];
    }
    found
}

pub(crate) fn strip_directives(line: &str) -> String {
    let mut kept = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        kept.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// A fence opening: its marker (``` or ~~~, possibly longer) and info string.
pub(crate) fn fence_open(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let marker = ['`', '~'].into_iter().find(|&c| trimmed.starts_with(c))?;
    let length = trimmed.chars().take_while(|&c| c == marker).count();
    (length >= 3).then(|| (&trimmed[..length], trimmed[length..].trim()))
}

pub(crate) fn fence_closes(line: &str, fence: &str) -> bool {
    let trimmed = line.trim();
    trimmed.starts_with(fence) && trimmed.chars().all(|c| fence.starts_with(c))
}

/// The target of every `[text](target)` and `![alt](target)` in markdown
/// outside code, plus `src="..."` and `href="..."` attributes.
pub(crate) fn links(text: &str) -> Vec<&str> {
    prose_lines(text).flat_map(link_targets).collect()
}

/// The lines of a chapter that lie outside fenced code blocks.
pub(crate) fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_fence: Option<&str> = None;
    text.lines().filter(move |line| {
        if let Some(fence) = in_fence {
            if fence_closes(line, fence) {
                in_fence = None;
            }
            return false;
        }
        if let Some((fence, _)) = fence_open(line) {
            in_fence = Some(fence);
            return false;
        }
        true
    })
}

pub(crate) fn link_targets(line: &str) -> Vec<&str> {
    let line_without_code = outside_inline_code(line);
    let mut found = Vec::new();
    for (start, _) in line.match_indices("](") {
        if !line_without_code[start] {
            continue;
        }
        let rest = &line[start + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = rest[..end].split_whitespace().next().unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        if !target.is_empty() {
            found.push(target);
        }
    }
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in line.match_indices(attribute) {
            if !line_without_code[start] {
                continue;
            }
            let rest = &line[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(&rest[..end]);
            }
        }
    }
    found
}

/// For each byte of `line`, whether it lies outside `inline code`.
fn outside_inline_code(line: &str) -> Vec<bool> {
    let mut outside = Vec::with_capacity(line.len());
    let mut in_code = false;
    for byte in line.bytes() {
        if byte == b'`' {
            in_code = !in_code;
        }
        outside.push(!in_code);
    }
    outside
}
