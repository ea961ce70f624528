#!/usr/bin/env python3
"""Writes the pipelines of the run benchmark into DIR, with an equivalent
Makefile (the floor: the same processes, scheduled by make).

  flat N    N trivial jobs in one stage
  chain N   N trivial jobs, each `needs` the previous one
  sleepdag  a DAG of sleep jobs; prints its critical path in seconds
  files N   a project of N files (4 KiB each, 50 per directory) and 6 jobs
            in 2 stages that read them
"""
import os
import sys


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    os.makedirs(out, exist_ok=True)
    yml, mk = [], []
    if kind == "flat":
        yml.append("stages: [test]\n")
        names = ["job%03d" % i for i in range(n)]
        for name in names:
            yml.append("%s:\n  stage: test\n  script:\n    - echo %s\n" % (name, name))
            mk.append("%s:\n\t@bash -c 'echo %s'\n" % (name, name))
        mk.insert(0, "all: %s\n" % " ".join(names))
    elif kind == "chain":
        yml.append("stages: [test]\n")
        for i in range(n):
            name = "job%03d" % i
            needs = "  needs: [job%03d]\n" % (i - 1) if i > 0 else "  needs: []\n"
            yml.append("%s:\n  stage: test\n%s  script:\n    - echo %s\n" % (name, needs, name))
            dep = " job%03d" % (i - 1) if i > 0 else ""
            mk.append("job%03d:%s\n\t@bash -c 'echo %s'\n" % (i, dep, name))
        mk.insert(0, "all: job%03d\n" % (n - 1))
    elif kind == "sleepdag":
        # (name, seconds, needs). Critical path: a(0.5) -> c(1.0) -> e(0.5) = 2.0 s.
        jobs = [("a", 0.5, []), ("b", 0.3, []), ("c", 1.0, ["a"]), ("d", 0.4, ["a", "b"]),
                ("e", 0.5, ["c", "d"]), ("f", 0.2, ["b"]), ("g", 0.6, ["d", "f"])]
        yml.append("stages: [test]\n")
        for name, secs, needs in jobs:
            yml.append("%s:\n  stage: test\n  needs: [%s]\n  script:\n    - sleep %s\n" %
                       (name, ", ".join(needs), secs))
            mk.append("%s: %s\n\t@sleep %s\n" % (name, " ".join(needs), secs))
        mk.insert(0, "all: %s\n" % " ".join(j[0] for j in jobs))
        print("2.0")
    elif kind == "files":
        for i in range(n):
            d = os.path.join(out, "src", "d%03d" % (i // 50))
            os.makedirs(d, exist_ok=True)
            write(os.path.join(d, "f%04d.txt" % i), ("line %d of file %d\n" % (0, i)) * 200)
        yml.append("stages: [build, test]\n")
        names = []
        for stage in ("build", "test"):
            for k in range(3):
                name = "%s%d" % (stage, k)
                names.append(name)
                yml.append("%s:\n  stage: %s\n  script:\n    - cat src/*/*.txt | wc -l\n" %
                           (name, stage))
                mk.append("%s:\n\t@bash -c 'cat src/*/*.txt | wc -l'\n" % name)
        mk.insert(0, "all: %s\n" % " ".join(names))
    else:
        sys.exit("unknown kind " + kind)
    write(os.path.join(out, ".gitlab-ci.yml"), "\n".join(yml))
    write(os.path.join(out, "Makefile"), ".PHONY: all\n" + "\n".join(mk))


if __name__ == "__main__":
    main()
