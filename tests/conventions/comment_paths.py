#!/usr/bin/env python3
"""Every C++ source file named in a comment exists (issue 17: comments kept pointing at files that had
been renamed or split away, e.g. store_alert_sync.cpp, sdbus_bluez.hpp).

Scans the comments of C++ sources (//, /* */) and the # comments of CMake, shell and Python files for
tokens ending in .hpp or .cpp and fails listing each one that names no file of the tree:
  - a bare name (uploader.cpp) must be the name of some file in the tree;
  - a name with a folder (sync/uploader.cpp, ble/sdbus_bluez.hpp) must be the end of some file's path.
Tokens with wildcards or braces (drivers/ble/*.cpp, config.{hpp,cpp}) are patterns, not names: skipped.
Names of other projects' headers go in ALLOWED below, each with the reason.

  comment_paths.py ROOT        check the tree at ROOT (exit 1 and a list if a comment names a missing file)
  comment_paths.py --self-test show the check fails on a comment naming a missing file, and only then
"""
import os
import re
import sys
import tempfile

# Names that are not carehub's files, with why they may appear in a comment.
ALLOWED = {
    "nlohmann/json.hpp": "nlohmann-json3-dev's header",
    "json.hpp": "nlohmann-json3-dev's header, named without its folder",
    "CLI11.hpp": "libcli11-dev's single header",
    "CLI/CLI.hpp": "libcli11-dev's header",
    "sdbus-c++.hpp": "not a file: the library is sdbus-c++, the token is its name with a suffix",
}

SKIP_DIRS = {".git", "node_modules", "__pycache__"}
CXX = (".cpp", ".hpp", ".h", ".cc")
HASH = (".cmake", ".sh", ".py")
TOKEN = re.compile(r"(?<![\w./*{-])((?:[\w.-]+/)*[\w.-]*\w\.(?:hpp|cpp))(?![\w*{}])")


def is_build_dir(path):
    return os.path.exists(os.path.join(path, "CMakeCache.txt"))


def tree_files(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not is_build_dir(os.path.join(top, d)))
        for f in sorted(files):
            yield os.path.relpath(os.path.join(top, f), root)


def cxx_comments(text):
    """(line, comment text) of every // and /* */ comment; string, character and raw string literals skipped."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            yield line, text[i:j]
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k, part in enumerate(text[i:j].split("\n")):
                yield line + k, part
            line += text.count("\n", i, j)
            i = j
        elif c == "R" and i + 1 < n and text[i + 1] == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^()\\ ]{0,16})\(', text[i:])
            if not m:
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            line += text.count("\n", i, j)
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator: 1'000'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1


def hash_comments(text):
    """(line, comment text) of every # comment: a # at the start of a line or after white space."""
    for k, l in enumerate(text.split("\n")):
        m = re.search(r"(?:^|\s)#", l)
        if m and not l.startswith("#!"):
            yield k + 1, l[m.end() - 1:]


def check(root):
    files = list(tree_files(root))
    names = {os.path.basename(f) for f in files}
    missing = []
    for f in files:
        if f.endswith(CXX):
            comments = cxx_comments
        elif f.endswith(HASH) or os.path.basename(f) == "CMakeLists.txt":
            comments = hash_comments
        else:
            continue
        try:
            text = open(os.path.join(root, f), encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for line, comment in comments(text):
            for token in TOKEN.findall(comment):
                token = token.lstrip("./")
                if token in ALLOWED:
                    continue
                if "/" in token:
                    ok = any(p == token or p.endswith("/" + token) for p in files)
                else:
                    ok = token in names
                if not ok:
                    missing.append(f"{f}:{line}: names {token}, which is no file of the tree")
    return missing


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "core"))
        with open(os.path.join(d, "core", "real.hpp"), "w") as out:
            out.write('// See real.hpp and core/real.hpp; drivers/*.cpp is a pattern.\n'
                      'const char* s = "gone.cpp";  // a string is not a comment\n')
        with open(os.path.join(d, "core", "real.cpp"), "w") as out:
            out.write("int x;\n/* split into\n   core/gone.hpp */\n")
        with open(os.path.join(d, "CMakeLists.txt"), "w") as out:
            out.write("add_library(x real.cpp)  # see also stale" + ".cpp\n")  # (so this line names no file)
        found = check(d)
        want = ["CMakeLists.txt:1: names stale.cpp", "core/real.cpp:3: names core/gone.hpp"]
        got = [m.split(", which")[0] for m in found]
        if got != want:
            print(f"self-test: expected {want}, got {got}")
            return 1
    print("self-test: the check reports exactly the two comments naming missing files")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    missing = check(sys.argv[1])
    for m in missing:
        print(m)
    if missing:
        print(f"{len(missing)} comment(s) name files that do not exist: fix the comment, or add the name to "
              "ALLOWED in tests/conventions/comment_paths.py with the reason")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
