#!/usr/bin/env python3
"""Print the files of a build context that a Docker build can read (NUL-separated).

usage: context_files.py <context dir>

The cache key of build-dockerfile.sh hashes these files only: a change to what
`.dockerignore` keeps out of the build (the tests, the docs, the manifests) cannot
change the image, so it must not cost a rebuild.

The rules are BuildKit's (moby/patternmatcher): a pattern excludes a path when it
matches the path or one of its parent folders; `!` re-includes; the last matching
pattern wins; `*` and `?` stop at `/`, `**` spans folders. A pattern this file cannot
read makes it print every file: a key over too many files costs a rebuild, a key over
too few would reuse a stale image. An excluded folder that no `!` pattern can reach
into (node_modules, .git) is not walked at all: a repository root stays fast.
"""

import os
import re
import sys


def translate(pattern):
    """The regular expression of one cleaned .dockerignore pattern, or None."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                # `**/` is zero or more whole folders.
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i == len(pattern):
                return None
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return None
            body = pattern[i + 1 : end]
            if body.startswith("^") or body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def read_patterns(text):
    """(negated, regex, cleaned pattern) per line; None when a line cannot be read."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        cleaned = os.path.normpath(line.lstrip("/")) if line.lstrip("/") else "."
        regex = translate(cleaned)
        if regex is None:
            return None
        patterns.append((negated, regex, cleaned))
    return patterns


def excluded(path, patterns):
    """BuildKit's MatchesOrParentMatches over the patterns, last match wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    matched = False
    for negated, regex, _ in patterns:
        # An inclusion only matters once excluded, an exclusion only while included.
        if negated != matched:
            continue
        if any(regex.match(c) for c in candidates):
            matched = not negated
    return matched


def may_reinclude(folder, patterns):
    """Whether a `!` pattern could match something inside the folder (conservative)."""
    parts = folder.split("/")
    for negated, _, cleaned in patterns:
        if not negated:
            continue
        segments = cleaned.split("/")
        reachable = True
        for i, part in enumerate(parts):
            if i >= len(segments) or "**" in segments[i]:
                break
            seg = translate(segments[i])
            if seg is None or not seg.match(part):
                reachable = False
                break
        if reachable:
            return True
    return False


def context_files(ctx):
    ignore = os.path.join(ctx, ".dockerignore")
    patterns = []
    if os.path.exists(ignore):
        with open(ignore, encoding="utf-8") as f:
            patterns = read_patterns(f.read())
    files = []
    for root, dirs, names in os.walk(ctx):
        rel_root = os.path.relpath(root, ctx).replace(os.sep, "/")
        if patterns:
            dirs[:] = [
                d
                for d in dirs
                if not excluded(prefixed(rel_root, d), patterns)
                or may_reinclude(prefixed(rel_root, d), patterns)
            ]
        dirs.sort()
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(root, name), ctx).replace(os.sep, "/")
            if patterns is None or not excluded(rel, patterns):
                files.append(rel)
    return sorted(files)


def prefixed(rel_root, name):
    return name if rel_root == "." else rel_root + "/" + name


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        sys.exit("usage: context_files.py <context dir>")
    sys.stdout.write("".join("./" + f + "\0" for f in context_files(argv[1])))


if __name__ == "__main__":
    main(sys.argv)
