#!/usr/bin/env python3
"""A unity batch (CAREHUB_UNITY) must mean what its files mean alone.

A batch is one translation unit: a name a file declares in its anonymous namespace (or in a named namespace
at file scope, or a file-scope `using namespace`) is in scope in every later file of the batch. Two
definitions of the same name are a compile error, but an overload or a constant from an earlier file can
also silently win an unqualified call or read in a later one (uploader_test.cpp read auth_jwt_test.cpp's
`kNow` instead of its fixture's). So: for each batch CMake generated under BUILD_DIR, every name an
earlier file declares at file scope of an unnamed namespace, and every namespace an earlier file brings
in with `using namespace`, must not appear as an unqualified token in a later file. Such files go alone
(carehub_alone() beside their target) or the name is renamed.

The parse is deliberately simple and errs towards reporting: comments and literals are blanked, braces
matched, and the declarations at the top level of each `namespace {` block read with a few patterns.

Usage: unity_names.py BUILD_DIR        (nothing to check, and success, when the tree has no batches)
       unity_names.py --self-test
"""
import pathlib
import re
import sys

IDENT = re.compile(r"[A-Za-z_]\w*")
KEYWORDS = {
    "const", "constexpr", "static", "inline", "auto", "void", "int", "bool", "char", "double", "float",
    "long", "unsigned", "signed", "short", "struct", "class", "enum", "using", "template", "typename",
    "std", "return", "operator", "namespace", "extern", "volatile", "mutable", "thread_local", "noexcept",
    "override", "final", "explicit", "virtual", "friend", "public", "private", "protected", "size_t",
    "string", "string_view", "vector", "map", "set", "optional", "unique_ptr", "shared_ptr", "function",
}


def blank(src):
    """The source with comments, string and character literals replaced by spaces (lines kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j])); i = j
        elif c == "R" and src.startswith('R"', i) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', src[i:])
            if not m:
                out.append(c); i += 1; continue
            end = src.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(" " * (j - i)); i = j
        else:
            out.append(c); i += 1
    return "".join(out)


def match_brace(text, open_at):
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(text)


def declared_name(head):
    """The name a top-level declaration (its text before any body or initialiser) declares, or None."""
    head = re.sub(r"^\s*template\s*<[^{;]*?>\s*", "", head.strip())
    m = re.match(r"(?:struct|class|union|enum(?:\s+class)?)\s+(\w+)", head)
    if m:
        return m.group(1)
    m = re.match(r"using\s+(\w+)\s*=", head)
    if m:
        return m.group(1)
    if head.startswith(("using ", "static_assert", "#")) or not head:
        return None
    # A function: the identifier before the first '(' (skipping operator overloads and macros such as
    # TEST(…)); a variable: the last identifier before '=', '{', '[' or the end.
    cut = len(head)
    for stop in "=({[":
        at = head.find(stop)
        if at >= 0:
            cut = min(cut, at)
    names = [t for t in IDENT.findall(head[:cut]) if t not in KEYWORDS]
    if not names or "operator" in head[:cut]:
        return None
    name = names[-1]
    if name.isupper() and head[cut:cut + 1] == "(":  # TEST(...), a macro call
        return None
    return name


def file_scope_names(text):
    """Names declared at the top level of the file's unnamed namespaces, and namespaces used at file scope."""
    names = set()
    for m in re.finditer(r"\bnamespace\s*\{", text):
        start = m.end() - 1
        end = match_brace(text, start)
        body = text[start + 1:end]
        depth, head = 0, []
        for ch in body:
            if depth == 0 and ch in ";{":
                name = declared_name("".join(head))
                if name:
                    names.add(name)
                head = []
                if ch == "{":
                    depth = 1
                continue
            if depth > 0:
                depth += {"{": 1, "}": -1}.get(ch, 0)
                continue
            if ch == "}":
                continue
            head.append(ch)
    used = set()
    depth = 0
    for m in re.finditer(r"[{}]|\busing\s+namespace\s+([\w:]+)\s*;", text):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
        elif m.group(1):
            used.add(m.group(1).split("::")[-1])
    return names, used


def unqualified_tokens(text):
    """Identifiers not written after '.', '->' or '::' (those cannot pick up another file's name)."""
    return {m.group(0) for m in IDENT.finditer(text)
            if not re.search(r"(\.|->|::)\s*$", text[max(0, m.start() - 3):m.start()])}


def check_batch(files):
    """Findings for one batch: (earlier file, later file, name)."""
    findings, seen = [], []
    for path in files:
        text = blank(path.read_text(errors="replace"))
        tokens = unqualified_tokens(text)
        for earlier, names in seen:
            for name in sorted(names & tokens):
                findings.append((earlier, path, name))
        names, _ = file_scope_names(text)
        seen.append((path, names))
    return findings


def batches(build_dir):
    # Only the batches the tree builds now: a long-lived tree keeps the files of targets that have since
    # stopped batching. Ninja's build file names the current ones; without it (another generator), all.
    root = pathlib.Path(build_dir).resolve()
    ninja = root / "build.ninja"
    current = set(re.findall(r"[^\s$:]*Unity/unity_\w+\.cxx", ninja.read_text())) if ninja.exists() else None
    for unity in sorted(root.rglob("Unity/unity_*.cxx")):
        if current is not None and not {str(unity), str(unity.relative_to(root))} & current:
            continue
        files = [pathlib.Path(p) for p in re.findall(r'#include\s+"([^"]+)"', unity.read_text())]
        if len(files) > 1:
            yield unity, files


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        (d / "a.cpp").write_text('namespace x {\nnamespace {\nconst int kNow = 1; // "}"\n'
                                 'int helper(int v) { return v; }\nstruct Peer { int p; };\n}\n}\n')
        (d / "b.cpp").write_text("namespace x {\nnamespace {\nusing namespace fixture;\n"
                                 "int f() { return kNow + obj.helper(2); }\n}\n}\n")
        (d / "c.cpp").write_text("namespace x {\nnamespace {\nint g() { return 3; }\n}\n}\n")
        got = {(a.name, b.name, n) for a, b, n in check_batch([d / "a.cpp", d / "b.cpp", d / "c.cpp"])}
        want = {("a.cpp", "b.cpp", "kNow")}  # obj.helper is qualified; the third file uses nothing of the first two
        if got != want:
            print(f"self-test: expected {want}, got {got}")
            return 1
        got = {(a.name, b.name, n) for a, b, n in check_batch([d / "b.cpp", d / "a.cpp"])}
        if ("b.cpp", "a.cpp", "fixture") in got or got:
            print(f"self-test: a later file that does not mention 'fixture' was reported: {got}")
            return 1
    print("self-test passed")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    count, bad = 0, 0
    for unity, files in batches(argv[1]):
        count += 1
        for earlier, later, name in check_batch(files):
            bad += 1
            print(f"{later}: '{name}' may resolve to {earlier.name}'s file-local '{name}' in the unity batch "
                  f"{unity.name} of {unity.parent.parent.name}: rename it, or carehub_alone() one of the files")
    print(f"{count} unity batches checked, {bad} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
