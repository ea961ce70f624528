#!/usr/bin/env python3
"""The engine's layers run one way, and no source file outgrows 700 lines.

    layers_test.py SOURCE_DIR      check SOURCE_DIR/src
    layers_test.py --self-test     check that a tree that breaks each rule fails

Rules (docs/architecture.md describes the layers):
  * A file under src/<layer>/ includes headers of its own layer and of the
    layers below it, in the order
        util < config < pipeline < exec < image < store < server < cli
    (src/main.cc may include anything). Tests (*_test.cc, *_test_util.h,
    test_*.h) follow the same rule, without exceptions: a test that needs a
    higher layer's machinery belongs to that higher layer.
  * store/ is a leaf above util/: the records it keeps are its own types
    (store/store.h), so it includes nothing from config/, pipeline/ or
    exec/, except the vocabulary it stores verbatim: pipeline/ci_status.h
    and pipeline/merge_request_info.h (plain data). Whoever turns a run into records (the server)
    sits above both.
  * Every .cc and .h under src/ and bench/, tests included, has at most
    700 lines (the house style's limit: past it, split by concept).

Exceptions are listed below, each with its reason; an exception that no
longer matches anything is itself an error, so the lists only shrink.
"""

import os
import re
import sys
import tempfile

LAYERS = ["util", "config", "pipeline", "exec", "image", "store", "server", "cli"]
MAX_LINES = 700

# What store/ may include beyond util/ and itself.
STORE_ALLOWED_HEADERS = {"pipeline/ci_status.h", "pipeline/merge_request_info.h"}

# (including file, included header) pairs allowed for now.
KNOWN_INCLUDE_EXCEPTIONS = set()

# Files allowed past MAX_LINES for now.
KNOWN_LONG_FILES = set()

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"')


def layer_of(rel_path):
    """The layer of a path relative to the source dir, or None (src/main.cc, bench/)."""
    parts = rel_path.split("/")
    if len(parts) >= 3 and parts[0] == "src" and parts[1] in LAYERS:
        return parts[1]
    return None


def include_allowed(layer, header_layer, header):
    if layer == "store":
        return header_layer in ("util", "store") or header in STORE_ALLOWED_HEADERS
    return LAYERS.index(header_layer) <= LAYERS.index(layer)


def source_files(root):
    for top in ("src", "bench"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "node_modules")
            for name in sorted(filenames):
                if name.endswith((".cc", ".h")):
                    path = os.path.join(dirpath, name)
                    yield os.path.relpath(path, root).replace(os.sep, "/"), path


def check(root):
    """Returns the list of problems found in the tree at root."""
    problems = []
    used_includes = set()
    used_long = set()
    for rel, path in source_files(root):
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > MAX_LINES:
            if rel in KNOWN_LONG_FILES:
                used_long.add(rel)
            else:
                problems.append(f"{rel}: {len(lines)} lines, over the limit of {MAX_LINES}: "
                                "split it by concept")
        layer = layer_of(rel)
        if layer is None:
            continue
        for number, line in enumerate(lines, 1):
            m = INCLUDE_RE.match(line)
            if not m or m.group(1) not in LAYERS:
                continue
            header_layer, header = m.group(1), m.group(1) + "/" + m.group(2)
            if include_allowed(layer, header_layer, header):
                continue
            if (rel, header) in KNOWN_INCLUDE_EXCEPTIONS:
                used_includes.add((rel, header))
                continue
            if layer == "store":
                why = "store/ includes only util/ and " + ", ".join(sorted(STORE_ALLOWED_HEADERS))
            else:
                why = f"{header_layer}/ is above {layer}/"
            problems.append(f"{rel}:{number}: includes \"{header}\": {why}")
    if root_is_real(root):
        for rel, header in sorted(KNOWN_INCLUDE_EXCEPTIONS - used_includes):
            problems.append(f"{rel}: known exception for \"{header}\" no longer needed: "
                            "remove it from KNOWN_INCLUDE_EXCEPTIONS")
        for rel in sorted(KNOWN_LONG_FILES - used_long):
            problems.append(f"{rel}: no longer over {MAX_LINES} lines: "
                            "remove it from KNOWN_LONG_FILES")
    return problems


def root_is_real(root):
    # The self-test's trees are not the project: its exception lists do not apply.
    return not os.path.exists(os.path.join(root, ".layers-self-test"))


def self_test():
    """Each rule must reject a tree that breaks it."""
    cases = {
        "upward include": ({"src/config/a.h": '#include "pipeline/job.h"\n'},
                           'src/config/a.h:1: includes "pipeline/job.h": pipeline/ is above config/'),
        "upward include from a test": (
            {"src/util/a_test.cc": '#include <gtest/gtest.h>\n# include "exec/scheduler_test_util.h"\n'},
            'src/util/a_test.cc:2: includes "exec/scheduler_test_util.h"'),
        "store includes exec": ({"src/store/s.cc": '#include "exec/job_log.h"\n'},
                                'src/store/s.cc:1: includes "exec/job_log.h": store/ includes only'),
        "store includes config": ({"src/store/s.h": '#include "config/node.h"\n'},
                                  'src/store/s.h:1: includes "config/node.h"'),
        "long file": ({"src/exec/big.cc": "int x;\n" * (MAX_LINES + 1)},
                      f"src/exec/big.cc: {MAX_LINES + 1} lines"),
        "long bench file": ({"bench/b.cc": "\n" * (MAX_LINES + 1)}, "bench/b.cc: 701 lines"),
    }
    allowed = {
        "src/cli/a.cc": '#include "server/api.h"\n#include "util/status.h"\n',
        "src/store/s.h": '#include "pipeline/ci_status.h"\n#include "store/store.h"\n',
        "src/exec/ok.cc": "int x;\n" * MAX_LINES,
        "src/main.cc": '#include "cli/cli.h"\n',
    }
    failures = []
    for name, (files, expected) in list(cases.items()) + [("allowed tree", (allowed, None))]:
        with tempfile.TemporaryDirectory() as root:
            open(os.path.join(root, ".layers-self-test"), "w").close()
            for rel, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(text)
            problems = check(root)
            if expected is None:
                if problems:
                    failures.append(f"{name}: unexpected problems {problems}")
            elif not any(p.startswith(expected) for p in problems):
                failures.append(f"{name}: expected a problem starting {expected!r}, got {problems}")
    for failure in failures:
        print("SELF-TEST FAIL:", failure)
    print(f"self-test: {len(cases) + 1 - len(failures)}/{len(cases) + 1} cases behave")
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    problems = check(argv[1])
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} layering problem(s); see tests/layers/layers_test.py for the rules")
        return 1
    print("layers: every include runs downward, every file is within the line limit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
