#!/usr/bin/env python3
"""Check the relative links of README.md and docs/*.md.

Every inline link and image (`[text](target)`, `![alt](target)`) and every
reference definition (`[label]: target`) outside code must resolve: the
target file or directory exists (relative to the page), and an anchor
(`page.md#anchor`, `#anchor`) names a heading of that page as GitHub
slugs it (lowercase; punctuation other than `-` and `_` removed; spaces
to `-`; `-1`, `-2`, ... for repeats) or an explicit `id`/`name`. Links
with a scheme (https:, mailto:) are not fetched. Also: every page in docs/
is listed in docs/README.md.

Usage: python3 docs/check_links.py [FILE.md ...]   (default: README.md and
docs/*.md, from the repository root, wherever it is run from). Exit status
0 when everything resolves, 1 otherwise, with one line per broken link.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
REF_DEF = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)")
HTML_ID = re.compile(r"""<[a-zA-Z][^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']""")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text):
    """(line number, line) for lines outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
            continue
        yield n, line


def strip_code_spans(text):
    """Replace inline code spans by spaces (keeping offsets and newlines)."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "`":
            j = i
            while j < len(text) and text[j] == "`":
                j += 1
            ticks = text[i:j]
            end = text.find(ticks, j)
            # A closing run must be exactly as long as the opening one.
            while end != -1 and end + len(ticks) < len(text) and text[end + len(ticks)] == "`":
                end = text.find(ticks, end + len(ticks) + 1)
            if end == -1:
                out.append(ticks)
                i = j
                continue
            span = text[i:end + len(ticks)]
            out.append("".join("\n" if c == "\n" else " " for c in span))
            i = end + len(ticks)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def heading_text(raw):
    """A heading's text as GitHub renders it (markup removed)."""
    parts = re.split(r"(`+[^`]*`+)", raw)
    text = []
    for p in parts:
        if p.startswith("`"):
            text.append(p.strip("`"))
            continue
        p = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", p)  # links, images
        p = re.sub(r"<[^>]+>", "", p)  # inline HTML
        p = p.replace("*", "")
        p = re.sub(r"(?<!\w)_+|_+(?!\w)", "", p)  # _emphasis_, not snake_case
        text.append(p)
    return "".join(text)


def slug(text):
    s = text.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path, cache={}):
    """The anchors a markdown file defines."""
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        found, seen = set(), {}
        for _, line in prose_lines(text):
            m = HEADING.match(line)
            if m:
                base = slug(heading_text(m.group(2)))
                k = seen.get(base, 0)
                seen[base] = k + 1
                found.add(base if k == 0 else f"{base}-{k}")
            found.update(HTML_ID.findall(line))
        cache[path] = found
    return cache[path]


def links(text):
    """(line number, target) of every link and reference definition."""
    lines = dict(prose_lines(text))
    numbered = [(n, lines.get(n, "")) for n in range(1, len(text.split("\n")) + 1)]
    out = []
    for n, line in numbered:
        m = REF_DEF.match(line)
        if m:
            out.append((n, m.group(2).strip("<>")))
    body = strip_code_spans("\n".join(line for _, line in numbered))
    starts = [0]
    for i, c in enumerate(body):
        if c == "\n":
            starts.append(i + 1)
    # [text](target) where text may span lines and nest brackets once.
    for m in re.finditer(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\s*\)", body):
        line = next(k for k in range(len(starts), 0, -1) if starts[k - 1] <= m.start(1))
        out.append((line, m.group(1).strip("<>")))
    return out


def check(page):
    problems = []
    with open(page, encoding="utf-8") as f:
        text = f.read()
    here = os.path.dirname(page)
    rel = os.path.relpath(page, ROOT)
    count = 0
    for n, target in links(text):
        count += 1
        if not target:
            problems.append(f"{rel}:{n}: empty link target")
            continue
        if SCHEME.match(target):
            continue
        path, _, anchor = target.partition("#")
        if not path:
            dest = page
        elif path.startswith("/"):  # GitHub: relative to the repository root
            dest = os.path.normpath(os.path.join(ROOT, path.lstrip("/")))
        else:
            dest = os.path.normpath(os.path.join(here, path))
        if not os.path.exists(dest):
            problems.append(f"{rel}:{n}: {target}: no such file {os.path.relpath(dest, ROOT)}")
            continue
        if not anchor:
            continue
        if dest.endswith(".md"):
            if anchor not in anchors(dest):
                problems.append(
                    f"{rel}:{n}: {target}: no heading with anchor #{anchor} in {os.path.relpath(dest, ROOT)}"
                )
        elif not re.fullmatch(r"L\d+(-L\d+)?", anchor):
            problems.append(f"{rel}:{n}: {target}: anchor #{anchor} in a file that is not markdown")
    return count, problems


def index_problems():
    """Every docs/ page must be listed in docs/README.md."""
    docs = os.path.join(ROOT, "docs")
    index = os.path.join(docs, "README.md")
    if not os.path.exists(index):
        return ["docs/README.md: missing (the index of the docs pages)"]
    with open(index, encoding="utf-8") as f:
        listed = {os.path.normpath(os.path.join(docs, t.partition("#")[0])) for _, t in links(f.read())}
    return [
        f"docs/README.md: does not list docs/{name}"
        for name in sorted(os.listdir(docs))
        if name.endswith(".md") and name != "README.md" and os.path.join(docs, name) not in listed
    ]


def main(argv):
    pages = [os.path.abspath(p) for p in argv] or [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", n) for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md")
    )
    total, problems = 0, []
    for page in pages:
        count, p = check(page)
        total += count
        problems += p
    if not argv:
        problems += index_problems()
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) in {total} links of {len(pages)} files")
        return 1
    print(f"{total} links in {len(pages)} files: all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
