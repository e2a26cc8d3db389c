"""The constants shared by the WGSL generators and Rust, read from shaders/constants.rs (the one
place they are written; src/gpu/kernel.rs includes the same file)."""

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def consts():
    """Every `const NAME: usize = VALUE;` of shaders/constants.rs, as {NAME: int}."""
    text = open(os.path.join(HERE, "constants.rs")).read()
    found = {m[1]: int(m[2]) for m in re.finditer(r"^pub const (\w+): usize = (\d+);$", text, re.M)}
    if not found:
        raise SystemExit("shaders/constants.rs: no constants found")
    return found


def write_or_check(path, text, argv):
    """Writes `text` to `path`, or with `--check` in argv compares it with the committed file and
    exits 1 (naming the file) where they differ."""
    if "--check" in argv:
        if open(path).read() != text:
            raise SystemExit(f"{os.path.relpath(path)} is not what {os.path.basename(argv[0])} writes: "
                             f"run python3 {os.path.relpath(argv[0])} and commit the result")
        return
    open(path, "w").write(text)
