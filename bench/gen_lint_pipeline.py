#!/usr/bin/env python3
"""Writes a large pipeline for the lint benchmark: N jobs spread over F
included files, using extends, anchors with merge keys and !reference."""
import argparse
import os

def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--files", type=int, default=20)
    a = p.parse_args()
    os.makedirs(os.path.join(a.dir, "ci"), exist_ok=True)
    stages = ["build", "test", "package", "deploy"]
    with open(os.path.join(a.dir, ".gitlab-ci.yml"), "w") as f:
        f.write("stages: [%s]\n\n" % ", ".join(stages))
        f.write("workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n\n")
        f.write("variables:\n  GLOBAL_FLAG: \"1\"\n\n")
        f.write("include:\n")
        for i in range(a.files):
            f.write("  - local: ci/part-%02d.yml\n" % i)
        f.write("\n.base:\n  variables:\n    BASE: \"yes\"\n  before_script:\n    - echo setup\n"
                "  retry: 1\n\n.script-template:\n  script:\n    - echo from-reference\n")
    per_file = a.jobs // a.files
    n = 0
    for i in range(a.files):
        with open(os.path.join(a.dir, "ci", "part-%02d.yml" % i), "w") as f:
            f.write(".defaults-%02d: &defaults-%02d\n  tags: [linux]\n  interruptible: true\n"
                    "  variables:\n    PART: \"%d\"\n\n" % (i, i, i))
            for j in range(per_file):
                stage = stages[j % len(stages)]
                name = "job-%02d-%03d" % (i, j)
                f.write("%s:\n  <<: *defaults-%02d\n  extends: .base\n  stage: %s\n" % (name, i, stage))
                f.write("  script:\n    - !reference [.script-template, script]\n    - echo %s\n" % name)
                if j % 4 and j >= 4:
                    prev = "job-%02d-%03d" % (i, j - (j % 4))
                    f.write("  needs: [%s]\n" % prev)
                f.write("  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\" || $FORCE\n"
                        "      when: on_success\n    - when: manual\n\n")
                n += 1
    print("wrote %d jobs in %d files to %s" % (n, a.files + 1, a.dir))

if __name__ == "__main__":
    main()
